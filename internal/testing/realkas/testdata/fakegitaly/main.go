// Command fakegitaly answers the two Gitaly RPCs with which the GitLab agent
// server (KAS) reads an agent's configuration file: the ref advertisement
// (SmartHTTPService.InfoRefsUploadPack), to learn the commit of the default
// branch, and CommitService.TreeEntry, to read
// .gitlab/agents/<name>/config.yaml at that commit.
//
// It is not part of kubectl-gitlab's module: internal/testing/realkas copies
// it into the unpacked gitlab-agent source tree and builds it there, with the
// Gitaly protos that tree vendors (internal/gitaly/vendored/gitalypb), so
// that gRPC and protobuf stay out of our go.mod.
//
// Each repository is a directory under -repos named by the repository's
// relative_path; its files are the default branch's tree. The commit ID is a
// hash of those files, so KAS sees a new commit whenever a test changes one.
//
// Modelled on KAS's client side: internal/gitaly/poller.go (which refs it
// reads, and that no refs means an empty repository) and
// internal/gitaly/path_fetcher.go (NotFound is a missing file, which KAS
// takes as an empty configuration; FailedPrecondition is a file over
// max_size).
package main

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"net"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"gitlab.com/gitlab-org/cluster-integration/gitlab-agent/v16/internal/gitaly/vendored/gitalypb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// defaultBranch is the only branch every repository has.
const defaultBranch = "refs/heads/main"

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	repos := flag.String("repos", "", "directory with one subdirectory per repository, named by its relative_path")
	addressFile := flag.String("address-file", "", "write the address listened on to this file once serving")
	flag.Parse()
	if *repos == "" || *addressFile == "" {
		log.Fatal("-repos and -address-file are required")
	}
	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	srv := grpc.NewServer()
	store := &repositories{root: *repos}
	gitalypb.RegisterSmartHTTPServiceServer(srv, &smartHTTP{repos: store})
	gitalypb.RegisterCommitServiceServer(srv, &commits{repos: store})

	// Written with a rename, so that a reader never sees half an address.
	tmp := *addressFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(lis.Addr().String()), 0o600); err != nil {
		log.Fatal(err)
	}
	if err := os.Rename(tmp, *addressFile); err != nil {
		log.Fatal(err)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		srv.Stop()
	}()
	log.Printf("fakegitaly serving %s on %s", *repos, lis.Addr())
	if err := srv.Serve(lis); err != nil {
		log.Fatal(err)
	}
}

type repositories struct{ root string }

// dir is the repository's directory; relative_path must stay inside root.
func (r *repositories) dir(repo *gitalypb.Repository) (string, error) {
	rel := repo.GetRelativePath()
	clean := path.Clean("/" + rel)[1:]
	if rel == "" || clean != rel {
		return "", status.Errorf(codes.InvalidArgument, "invalid relative_path %q", rel)
	}
	dir := filepath.Join(r.root, filepath.FromSlash(clean))
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return "", status.Errorf(codes.NotFound, "repository %q not found", rel)
	}
	return dir, nil
}

// commitID hashes the tree's paths and contents: it changes whenever a file
// does. "" means the repository has no files, i.e. no commits.
func commitID(dir string) (string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return err
	})
	if err != nil || len(files) == 0 {
		return "", err
	}
	sort.Strings(files)
	h := sha1.New()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		rel, _ := filepath.Rel(dir, f)
		fmt.Fprintf(h, "%s\x00%d\x00", filepath.ToSlash(rel), len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

type smartHTTP struct {
	gitalypb.UnimplementedSmartHTTPServiceServer
	repos *repositories
}

// InfoRefsUploadPack answers with git's smart HTTP ref advertisement: the
// service line, a flush, then HEAD and the default branch (the first with
// capabilities), and a flush. An empty repository advertises no refs.
func (s *smartHTTP) InfoRefsUploadPack(req *gitalypb.InfoRefsRequest, stream gitalypb.SmartHTTPService_InfoRefsUploadPackServer) error {
	dir, err := s.repos.dir(req.GetRepository())
	if err != nil {
		return err
	}
	oid, err := commitID(dir)
	if err != nil {
		return status.Error(codes.Internal, err.Error())
	}
	var b bytes.Buffer
	pktLine(&b, "# service=git-upload-pack\n")
	b.WriteString("0000")
	if oid != "" {
		pktLine(&b, oid+" HEAD\x00side-band-64k symref=HEAD:"+defaultBranch+"\n")
		pktLine(&b, oid+" "+defaultBranch+"\n")
	}
	b.WriteString("0000")
	return stream.Send(&gitalypb.InfoRefsResponse{Data: b.Bytes()})
}

func pktLine(b *bytes.Buffer, data string) {
	fmt.Fprintf(b, "%04x%s", len(data)+4, data)
}

type commits struct {
	gitalypb.UnimplementedCommitServiceServer
	repos *repositories
}

// TreeEntry sends a file of the default branch's tree. The revision is the
// commit InfoRefsUploadPack advertised; there is only ever one.
func (c *commits) TreeEntry(req *gitalypb.TreeEntryRequest, stream gitalypb.CommitService_TreeEntryServer) error {
	dir, err := c.repos.dir(req.GetRepository())
	if err != nil {
		return err
	}
	p := string(req.GetPath())
	if p == "" || path.Clean("/" + p)[1:] != strings.TrimSuffix(p, "/") {
		return status.Errorf(codes.InvalidArgument, "invalid path %q", p)
	}
	file := filepath.Join(dir, filepath.FromSlash(p))
	info, err := os.Stat(file)
	switch {
	case err != nil:
		return status.Errorf(codes.NotFound, "tree entry %q not found", p)
	case info.IsDir():
		return stream.Send(&gitalypb.TreeEntryResponse{Type: gitalypb.TreeEntryResponse_TREE, Mode: 0o40000})
	case req.GetMaxSize() > 0 && info.Size() > req.GetMaxSize():
		return status.Errorf(codes.FailedPrecondition, "object size (%d) is bigger than the maximum allowed size (%d)", info.Size(), req.GetMaxSize())
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return status.Error(codes.Internal, err.Error())
	}
	blob := sha1.Sum([]byte(fmt.Sprintf("blob %d\x00%s", len(data), data)))
	return stream.Send(&gitalypb.TreeEntryResponse{
		Type: gitalypb.TreeEntryResponse_BLOB, Oid: hex.EncodeToString(blob[:]),
		Size: int64(len(data)), Mode: 0o100644, Data: data,
	})
}
