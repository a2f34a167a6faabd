// Command check verifies Waymark artifacts (SPEC sections 6 to 8) with Go's reference
// packages golang.org/x/mod/sumdb/note (signed notes) and golang.org/x/mod/sumdb/tlog
// (RFC 6962 / RFC 9162 Merkle proofs), independently of the Rust implementation.
//
// Usage (see run.sh, which builds it in GOPATH mode with no network):
//
//	check note        NOTE VKEY
//	check inclusion   PROOF.json NOTE VKEY
//	check consistency PROOF.json OLD-NOTE NEW-NOTE VKEY
//	check export      EXPORT.jsonl NOTE VKEY
//	check snapshot    SNAPSHOT.json EXPORT.jsonl VKEY
//	check cosigned    NOTE LOG-VKEY WITNESS-VKEY...   (cosignature.go: key type 0x04)
//	check tiles       DIR VKEY [PROOF.json...]   (tiles.go)
//
// VKEY is a verifier key "<name>+<hex id>+<base64 key>", or a file holding one.
// Exit status: 0 verified, 1 refused (the message says why), 2 usage.
package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type checkpoint struct {
	origin string
	size   int64
	root   tlog.Hash
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "FAIL: "+format+"\n", args...)
	os.Exit(1)
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage:
  check note        NOTE VKEY
  check inclusion   PROOF.json NOTE VKEY
  check consistency PROOF.json OLD-NOTE NEW-NOTE VKEY
  check export      EXPORT.jsonl NOTE VKEY
  check snapshot    SNAPSHOT.json EXPORT.jsonl VKEY
  check cosigned    NOTE LOG-VKEY WITNESS-VKEY...
  check tiles       DIR VKEY [PROOF.json...]`)
	os.Exit(2)
}

func readFile(path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		fail("%v", err)
	}
	return b
}

func verifier(arg string) note.Verifier {
	text := arg
	if _, err := os.Stat(arg); err == nil {
		text = strings.TrimSpace(string(readFile(arg)))
	}
	v, err := note.NewVerifier(text)
	if err != nil {
		fail("verifier key %q: %v", text, err)
	}
	return v
}

// openCheckpoint opens a signed note with note.Open and parses its text as a C2SP
// tlog-checkpoint body whose origin is the key name.
func openCheckpoint(msg []byte, v note.Verifier) checkpoint {
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		fail("note.Open: %v", err)
	}
	cp, err := parseBody(n.Text)
	if err != nil {
		fail("checkpoint body: %v", err)
	}
	if cp.origin != v.Name() {
		fail("checkpoint origin %q is not the key name %q", cp.origin, v.Name())
	}
	return cp
}

func parseBody(text string) (checkpoint, error) {
	var cp checkpoint
	if !strings.HasSuffix(text, "\n") {
		return cp, errors.New("no final newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		return cp, errors.New("fewer than three lines")
	}
	for _, l := range lines {
		if l == "" {
			return cp, errors.New("empty line")
		}
	}
	cp.origin = lines[0]
	size := lines[1]
	if strings.TrimLeft(size, "0123456789") != "" || (len(size) > 1 && size[0] == '0') {
		return cp, fmt.Errorf("tree size %q is not decimal without leading zeros", size)
	}
	n, err := strconv.ParseInt(size, 10, 64)
	if err != nil {
		return cp, fmt.Errorf("tree size %q: %v", size, err)
	}
	cp.size = n
	raw, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(raw) != tlog.HashSize {
		return cp, fmt.Errorf("root %q is not base64 of 32 bytes", lines[2])
	}
	copy(cp.root[:], raw)
	return cp, nil
}

func parseHash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	if len(s) != 64 || strings.ToLower(s) != s {
		return h, fmt.Errorf("%q is not 64 lowercase hex digits", s)
	}
	raw, err := hex.DecodeString(s)
	if err != nil {
		return h, fmt.Errorf("%q is not 64 lowercase hex digits", s)
	}
	copy(h[:], raw)
	return h, nil
}

func parseHashes(list []string) []tlog.Hash {
	out := make([]tlog.Hash, len(list))
	for i, s := range list {
		h, err := parseHash(s)
		if err != nil {
			fail("path[%d]: %v", i, err)
		}
		out[i] = h
	}
	return out
}

// decodeStrict reads one JSON object into v, refusing unknown keys and trailing data.
func decodeStrict(data []byte, v interface{}) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		fail("JSON: %v", err)
	}
	if dec.More() {
		fail("JSON: trailing data")
	}
}

func jsonUnmarshal(data []byte, v interface{}) error {
	return json.Unmarshal(data, v)
}

func need(name string, present bool) {
	if !present {
		fail("JSON: missing %q", name)
	}
}

func wantFormat(got *string, want string) {
	need("format", got != nil)
	if *got != want {
		fail("format is %q, expected %q", *got, want)
	}
}

type inclusionDoc struct {
	Format   *string  `json:"format"`
	Ledger   *string  `json:"ledger"`
	Seq      *int64   `json:"seq"`
	TreeSize *int64   `json:"tree_size"`
	LeafHash *string  `json:"leaf_hash"`
	Path     []string `json:"path"`
}

func checkInclusion(proofFile, noteFile string, v note.Verifier) {
	var d inclusionDoc
	decodeStrict(readFile(proofFile), &d)
	wantFormat(d.Format, "waymark-inclusion/v1")
	need("ledger", d.Ledger != nil)
	need("seq", d.Seq != nil)
	need("tree_size", d.TreeSize != nil)
	need("leaf_hash", d.LeafHash != nil)
	need("path", d.Path != nil)
	cp := openCheckpoint(readFile(noteFile), v)
	if cp.size != *d.TreeSize {
		fail("proof is for tree size %d, the checkpoint for %d", *d.TreeSize, cp.size)
	}
	leaf, err := parseHash(*d.LeafHash)
	if err != nil {
		fail("leaf_hash: %v", err)
	}
	if *d.Seq < 1 {
		fail("seq %d is not at least 1", *d.Seq)
	}
	proof := tlog.RecordProof(parseHashes(d.Path))
	if err := tlog.CheckRecord(proof, *d.TreeSize, cp.root, *d.Seq-1, leaf); err != nil {
		fail("tlog.CheckRecord(seq %d, size %d): %v", *d.Seq, *d.TreeSize, err)
	}
	fmt.Printf("ok: inclusion of seq %d (leaf %s) in %s at tree size %d, root %s\n",
		*d.Seq, *d.LeafHash, cp.origin, cp.size, hex.EncodeToString(cp.root[:]))
}

type consistencyDoc struct {
	Format  *string  `json:"format"`
	Ledger  *string  `json:"ledger"`
	OldSize *int64   `json:"old_size"`
	NewSize *int64   `json:"new_size"`
	Path    []string `json:"path"`
}

func checkConsistency(proofFile, oldFile, newFile string, v note.Verifier) {
	var d consistencyDoc
	decodeStrict(readFile(proofFile), &d)
	wantFormat(d.Format, "waymark-consistency/v1")
	need("ledger", d.Ledger != nil)
	need("old_size", d.OldSize != nil)
	need("new_size", d.NewSize != nil)
	need("path", d.Path != nil)
	old := openCheckpoint(readFile(oldFile), v)
	cur := openCheckpoint(readFile(newFile), v)
	if old.size != *d.OldSize || cur.size != *d.NewSize {
		fail("proof is for sizes %d -> %d, the checkpoints for %d -> %d",
			*d.OldSize, *d.NewSize, old.size, cur.size)
	}
	proof := tlog.TreeProof(parseHashes(d.Path))
	if err := tlog.CheckTree(proof, cur.size, cur.root, old.size, old.root); err != nil {
		fail("tlog.CheckTree(%d -> %d): %v", old.size, cur.size, err)
	}
	fmt.Printf("ok: consistency of %s from tree size %d (root %s) to %d (root %s)\n",
		cur.origin, old.size, hex.EncodeToString(old.root[:]), cur.size, hex.EncodeToString(cur.root[:]))
}

// exportHashes reads an export (SPEC section 7) and recomputes every event's leaf hash
// with tlog.RecordHash over its leaf bytes JCS(event). Each line is JCS(event ∪ {hash});
// in JCS order "hash" is the second key (after "actor", a string), so removing that
// member from the line gives JCS(event) byte for byte. It also checks seq and prev.
func exportHashes(data []byte) []tlog.Hash {
	var out []tlog.Hash
	if len(data) > 0 && data[len(data)-1] != '\n' {
		fail("export: last line has no newline")
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	prev := strings.Repeat("0", 64)
	for sc.Scan() {
		line := sc.Bytes()
		seq := len(out) + 1
		leaf, claimed := splitHash(line, seq)
		var ev struct {
			Seq  int64  `json:"seq"`
			Prev string `json:"prev"`
			Hash string `json:"hash"`
		}
		if err := json.Unmarshal(line, &ev); err != nil {
			fail("export line %d: %v", seq, err)
		}
		if ev.Seq != int64(seq) || ev.Prev != prev || ev.Hash != claimed {
			fail("export line %d: seq %d / prev %s do not follow the chain", seq, ev.Seq, ev.Prev)
		}
		h := tlog.RecordHash(leaf)
		if hex.EncodeToString(h[:]) != claimed {
			fail("export line %d: hash %s, recomputed %s", seq, claimed, hex.EncodeToString(h[:]))
		}
		out = append(out, h)
		prev = claimed
	}
	if err := sc.Err(); err != nil {
		fail("export: %v", err)
	}
	return out
}

func splitHash(line []byte, seq int) (leaf []byte, hash string) {
	const head = `{"actor":"`
	if !bytes.HasPrefix(line, []byte(head)) {
		fail("export line %d does not start with the actor key", seq)
	}
	i := len(head)
	for ; i < len(line) && line[i] != '"'; i++ {
		if line[i] == '\\' {
			i++
		}
	}
	end := i + 1 // just past the actor string
	const key = `,"hash":"`
	rest := line[end:]
	if !bytes.HasPrefix(rest, []byte(key)) || len(rest) < len(key)+65 || rest[len(key)+64] != '"' {
		fail("export line %d: no hash member after actor", seq)
	}
	hash = string(rest[len(key) : len(key)+64])
	leaf = append(append([]byte{}, line[:end]...), rest[len(key)+65:]...)
	return leaf, hash
}

// treeHash is the root over the first n record hashes, through tlog's stored-hash API.
func treeHash(records []tlog.Hash, n int64) tlog.Hash {
	var stored []tlog.Hash
	r := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			if x < 0 || x >= int64(len(stored)) {
				return nil, fmt.Errorf("hash index %d not stored", x)
			}
			out[i] = stored[x]
		}
		return out, nil
	})
	for i := int64(0); i < n; i++ {
		hs, err := tlog.StoredHashesForRecordHash(i, records[i], r)
		if err != nil {
			fail("tlog.StoredHashes: %v", err)
		}
		stored = append(stored, hs...)
	}
	th, err := tlog.TreeHash(n, r)
	if err != nil {
		fail("tlog.TreeHash: %v", err)
	}
	return th
}

func checkExportAgainst(cp checkpoint, records []tlog.Hash) {
	if cp.size < 1 || cp.size > int64(len(records)) {
		fail("checkpoint covers %d events, the export has %d", cp.size, len(records))
	}
	if th := treeHash(records, cp.size); th != cp.root {
		fail("root at size %d recomputed from the export is %s, the checkpoint says %s",
			cp.size, hex.EncodeToString(th[:]), hex.EncodeToString(cp.root[:]))
	}
}

type snapshotDoc struct {
	Format     *string          `json:"format"`
	Ledger     *string          `json:"ledger"`
	TreeSize   *int64           `json:"tree_size"`
	HeadHash   *string          `json:"head_hash"`
	Checkpoint *string          `json:"checkpoint"`
	Status     *json.RawMessage `json:"status"`
}

func checkSnapshot(snapFile, exportFile string, v note.Verifier) {
	var d snapshotDoc
	decodeStrict(readFile(snapFile), &d)
	wantFormat(d.Format, "waymark-snapshot/v1")
	need("ledger", d.Ledger != nil)
	need("tree_size", d.TreeSize != nil)
	need("head_hash", d.HeadHash != nil)
	need("checkpoint", d.Checkpoint != nil)
	need("status", d.Status != nil)
	cp := openCheckpoint([]byte(*d.Checkpoint), v)
	if cp.size != *d.TreeSize {
		fail("snapshot tree_size %d, its checkpoint's %d", *d.TreeSize, cp.size)
	}
	records := exportHashes(readFile(exportFile))
	checkExportAgainst(cp, records)
	head := records[cp.size-1]
	if hex.EncodeToString(head[:]) != *d.HeadHash {
		fail("head_hash %s is not the hash of event %d (%s)", *d.HeadHash, cp.size, hex.EncodeToString(head[:]))
	}
	var status map[string]json.RawMessage
	if err := json.Unmarshal(*d.Status, &status); err != nil {
		fail("status is not a JSON object: %v", err)
	}
	fmt.Printf("ok: snapshot of %s at tree size %d, root %s, head %s (status not recomputed)\n",
		*d.Ledger, cp.size, hex.EncodeToString(cp.root[:]), *d.HeadHash)
}

func main() {
	args := os.Args[1:]
	if len(args) == 0 {
		usage()
	}
	switch {
	case args[0] == "note" && len(args) == 3:
		cp := openCheckpoint(readFile(args[1]), verifier(args[2]))
		fmt.Printf("ok: checkpoint %s at tree size %d, root %s\n", cp.origin, cp.size, hex.EncodeToString(cp.root[:]))
	case args[0] == "inclusion" && len(args) == 4:
		checkInclusion(args[1], args[2], verifier(args[3]))
	case args[0] == "consistency" && len(args) == 5:
		checkConsistency(args[1], args[2], args[3], verifier(args[4]))
	case args[0] == "export" && len(args) == 4:
		v := verifier(args[3])
		cp := openCheckpoint(readFile(args[2]), v)
		checkExportAgainst(cp, exportHashes(readFile(args[1])))
		fmt.Printf("ok: export matches checkpoint %s at tree size %d, root %s\n", cp.origin, cp.size, hex.EncodeToString(cp.root[:]))
	case args[0] == "snapshot" && len(args) == 4:
		checkSnapshot(args[1], args[2], verifier(args[3]))
	case args[0] == "cosigned" && len(args) >= 4:
		checkCosigned(args[1], args[2], args[3:])
	case args[0] == "tiles" && len(args) >= 3:
		checkTiles(args[1], verifier(args[2]), args[3:])
	default:
		usage()
	}
}
