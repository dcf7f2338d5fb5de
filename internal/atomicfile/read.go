package atomicfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
)

// ReadFile is os.ReadFile for the files users name (kubeconfigs, CA
// bundles, token files): it reads a regular file of at most limit bytes, or
// the null device, which reads as empty, and refuses anything else with a
// *RefusedError inside an *fs.PathError. It never blocks on a FIFO and
// never reads without end from a device such as /dev/zero.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadAll(f, limit)
}

// Open opens path for reading if it is a regular file or the null device.
// Anything else is refused before it is opened (opening a FIFO blocks until
// a writer comes, opening some devices has effects of its own); what was
// opened, without blocking, is checked again, so a swap in between gains
// nothing.
func Open(path string) (*os.File, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := readable(info); err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	f, err := os.OpenFile(path, os.O_RDONLY|nonBlock, 0)
	if err != nil {
		return nil, err
	}
	if info, err = f.Stat(); err == nil {
		err = readable(info)
	}
	if err != nil {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return f, nil
}

func readable(info fs.FileInfo) error {
	if info.Mode().IsRegular() || isNullDevice(info) {
		return nil
	}
	return notRegular(info)
}

// ReadAll reads f (from Open) to its end, refusing more than limit bytes.
func ReadAll(f *os.File, limit int64) ([]byte, error) {
	var size int64
	if info, err := f.Stat(); err == nil {
		size = info.Size()
	}
	if size > limit {
		return nil, &fs.PathError{Op: "read", Path: f.Name(), Err: tooLarge(limit)}
	}
	// One allocation for a file that does not grow meanwhile, as in
	// os.ReadFile; one byte more than the limit tells a larger file.
	data := make([]byte, 0, min(size+512, limit+1))
	for {
		n, err := f.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if int64(len(data)) > limit {
			return nil, &fs.PathError{Op: "read", Path: f.Name(), Err: tooLarge(limit)}
		}
		if errors.Is(err, io.EOF) {
			return data, nil
		}
		if err != nil {
			return nil, err
		}
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
	}
}
