package testkas

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// object is a JSON object that keeps its keys in order, as Grape entities
// and Ruby hashes do, so bodies come out byte for byte as GitLab's.
type object []member

type member struct {
	Key   string
	Value any
}

func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m.Key)
		b.Write(k)
		b.WriteByte(':')
		v, err := marshal(m.Value)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// get returns the value of key, or nil.
func (o object) get(key string) any {
	for _, m := range o {
		if m.Key == key {
			return m.Value
		}
	}
	return nil
}

// marshal is json.Marshal without HTML escaping (Ruby's to_json writes
// <, > and & as they are).
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// writeGitLabJSON writes a Grape JSON answer: application/json, no
// trailing newline.
func writeGitLabJSON(w http.ResponseWriter, status int, v any) {
	writeRubyJSON(w, status, "application/json", v)
}

// writeRubyJSON writes v as Ruby's to_json does, as contentType.
func writeRubyJSON(w http.ResponseWriter, status int, contentType string, v any) {
	body, err := marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	w.Write(body)
}

// writeJSON writes a Kubernetes API answer (encoding/json with its
// trailing newline, as apimachinery's serializer writes).
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
