// A verifier of witness cosignatures (key type 0x04, "cosignature/v1"), written from
// the text of C2SP tlog-cosignature and signed-note alone, plugged into Go's
// golang.org/x/mod/sumdb/note as a custom note.Verifier:
//
//	check cosigned NOTE LOG-VKEY WITNESS-VKEY...
//
// opens NOTE with the log's key and every witness key, and requires the log's
// signature and one valid cosignature by each witness.
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// cosignatureV1 is a witness's verifier: the key ID is
// SHA-256(name || "\n" || 0x04 || key)[:4]; a signature is an 8-byte big-endian
// POSIX timestamp followed by an Ed25519 signature over
// "cosignature/v1\ntime <timestamp>\n" || note text.
type cosignatureV1 struct {
	name string
	hash uint32
	key  ed25519.PublicKey
}

func (v *cosignatureV1) Name() string    { return v.name }
func (v *cosignatureV1) KeyHash() uint32 { return v.hash }

func (v *cosignatureV1) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig[:8])
	if t > math.MaxInt64 {
		return false
	}
	var m bytes.Buffer
	m.WriteString("cosignature/v1\ntime ")
	m.WriteString(strconv.FormatUint(t, 10))
	m.WriteString("\n")
	m.Write(msg)
	return ed25519.Verify(v.key, m.Bytes(), sig[8:])
}

// newCosignatureV1 parses a vkey "<name>+<hex key ID>+<base64(0x04 || key)>".
func newCosignatureV1(vkey string) (*cosignatureV1, error) {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 || parts[0] == "" || strings.ContainsAny(parts[0], " \t\n+") {
		return nil, fmt.Errorf("malformed witness vkey %q", vkey)
	}
	name, idHex, keyB64 := parts[0], parts[1], parts[2]
	id, err := hex.DecodeString(idHex)
	if err != nil || len(id) != 4 {
		return nil, fmt.Errorf("witness vkey %q: key ID is not 8 hex digits", vkey)
	}
	raw, err := base64.StdEncoding.DecodeString(keyB64)
	if err != nil || len(raw) != 1+ed25519.PublicKeySize || raw[0] != 0x04 {
		return nil, fmt.Errorf("witness vkey %q: not base64 of 0x04 and a 32-byte key", vkey)
	}
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte("\n"))
	h.Write(raw)
	sum := h.Sum(nil)
	if !bytes.Equal(sum[:4], id) {
		return nil, fmt.Errorf("witness vkey %q: key ID does not match the key", vkey)
	}
	return &cosignatureV1{
		name: name,
		hash: binary.BigEndian.Uint32(id),
		key:  ed25519.PublicKey(raw[1:]),
	}, nil
}

func checkCosigned(notePath, logVkey string, witnessVkeys []string) {
	log := verifier(logVkey)
	verifiers := []note.Verifier{log}
	var witnesses []*cosignatureV1
	for _, arg := range witnessVkeys {
		text := arg
		if _, err := os.Stat(arg); err == nil {
			text = strings.TrimSpace(string(readFile(arg)))
		}
		w, err := newCosignatureV1(text)
		if err != nil {
			fail("%v", err)
		}
		witnesses = append(witnesses, w)
		verifiers = append(verifiers, w)
	}
	// note.Open verifies every line whose name and key ID are known (a bad one fails
	// the whole note) and ignores the others.
	n, err := note.Open(readFile(notePath), note.VerifierList(verifiers...))
	if err != nil {
		fail("note.Open: %v", err)
	}
	cp, err := parseBody(n.Text)
	if err != nil {
		fail("checkpoint body: %v", err)
	}
	signedBy := func(name string, hash uint32) *note.Signature {
		for i := range n.Sigs {
			if n.Sigs[i].Name == name && n.Sigs[i].Hash == hash {
				return &n.Sigs[i]
			}
		}
		return nil
	}
	if signedBy(log.Name(), log.KeyHash()) == nil || cp.origin != log.Name() {
		fail("the checkpoint is not signed by the log key %s", log.Name())
	}
	for _, w := range witnesses {
		s := signedBy(w.name, w.hash)
		if s == nil {
			fail("no cosignature by witness %s", w.name)
		}
		raw, _ := base64.StdEncoding.DecodeString(s.Base64)
		t := binary.BigEndian.Uint64(raw[4:12])
		fmt.Printf("ok: checkpoint %s at tree size %d cosigned by %s at %d\n", cp.origin, cp.size, w.name, t)
	}
}
