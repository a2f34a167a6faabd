package main

// The tiles subcommand: a directory of C2SP tlog-tiles (what `waymark publish` writes)
// read through Go's own tlog.TileHashReader, which checks every tile it reads against
// the tree hash of the signed checkpoint, with a TileReader that maps Go's tiles
// (Tile{H: 8, L, N, W}, whose Path is tile/8/L/N[.p/W]) to the C2SP path tile/L/N[.p/W].
//
//	check tiles DIR VKEY [PROOF.json...]
//
// It recomputes the root, checks that every entry of every entry bundle
// (tile/entries/N[.p/W], uint16-length-prefixed) hashes (tlog.RecordHash) to the
// level-0 hash at its index, checks Go-computed inclusion and consistency proofs
// (tlog.ProveRecord / CheckRecord, ProveTree / CheckTree) over a spread of indexes and
// sizes, and checks that each Waymark proof given is the one Go computes.

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const tileHeight = 8

// dirTiles reads C2SP tiles from a directory.
type dirTiles struct {
	dir  string
	read int
}

func (d *dirTiles) Height() int { return tileHeight }

func (d *dirTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		b, err := os.ReadFile(filepath.Join(d.dir, c2spPath(t)))
		if err != nil {
			return nil, err
		}
		d.read++
		out[i] = b
	}
	return out, nil
}

func (d *dirTiles) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

// c2spPath is Go's tile path without the height element: tile/8/L/N[.p/W] ->
// tile/L/N[.p/W]. The index N is Go's own encoding (groups of three digits, x on all
// but the last), which C2SP shares.
func c2spPath(t tlog.Tile) string {
	if t.H != tileHeight || t.L < 0 {
		fail("unexpected tile %+v", t)
	}
	return "tile/" + strings.TrimPrefix(t.Path(), fmt.Sprintf("tile/%d/", tileHeight))
}

// bundlePath is the C2SP entry bundle at level-0 tile index n and width w.
func bundlePath(n, w int64) string {
	t := tlog.Tile{H: tileHeight, L: 0, N: n, W: int(w)}
	return "tile/entries/" + strings.TrimPrefix(t.Path(), fmt.Sprintf("tile/%d/0/", tileHeight))
}

func parseBundle(data []byte, width int64, path string) [][]byte {
	var out [][]byte
	for len(data) > 0 {
		if len(data) < 2 {
			fail("%s: cut short in a length prefix", path)
		}
		n := int(binary.BigEndian.Uint16(data))
		if len(data) < 2+n {
			fail("%s: entry %d claims %d bytes, %d remain", path, len(out), n, len(data)-2)
		}
		out = append(out, data[2:2+n])
		data = data[2+n:]
	}
	if int64(len(out)) != width {
		fail("%s: %d entries, width %d", path, len(out), width)
	}
	return out
}

func spread(n int64) []int64 {
	var out []int64
	for _, x := range []int64{1, 2, 255, 256, 257, 511, 512, 65535, 65536, 65537, n / 3, n / 2, n - 1, n} {
		if x >= 1 && x <= n {
			out = append(out, x)
		}
	}
	return out
}

func checkTiles(dir string, v note.Verifier, proofs []string) {
	cp := openCheckpoint(readFile(filepath.Join(dir, "checkpoint")), v)
	reader := &dirTiles{dir: dir}
	thr := tlog.TileHashReader(tlog.Tree{N: cp.size, Hash: cp.root}, reader)
	root, err := tlog.TreeHash(cp.size, thr)
	if err != nil {
		fail("tlog.TreeHash(%d) from the tiles: %v", cp.size, err)
	}
	if root != cp.root {
		fail("root from the tiles %x, the checkpoint's %x", root, cp.root)
	}

	// Every entry hashes to its level-0 hash.
	for start := int64(0); start < cp.size; start += 256 {
		width := cp.size - start
		if width > 256 {
			width = 256
		}
		path := bundlePath(start/256, width)
		entries := parseBundle(readFile(filepath.Join(dir, path)), width, path)
		idx := make([]int64, width)
		for i := range idx {
			idx[i] = tlog.StoredHashIndex(0, start+int64(i))
		}
		leaves, err := thr.ReadHashes(idx)
		if err != nil {
			fail("level-0 hashes %d..%d: %v", start, start+width, err)
		}
		for i, e := range entries {
			if tlog.RecordHash(e) != leaves[i] {
				fail("%s: entry %d does not hash to the level-0 tile's hash", path, i)
			}
		}
	}

	// Go's proofs from the tiles, checked.
	checked := 0
	for _, size := range spread(cp.size) {
		sizeRoot, err := tlog.TreeHash(size, thr)
		if err != nil {
			fail("tlog.TreeHash(%d): %v", size, err)
		}
		for _, seq := range spread(size) {
			leaf, err := thr.ReadHashes([]int64{tlog.StoredHashIndex(0, seq-1)})
			if err != nil {
				fail("leaf %d: %v", seq, err)
			}
			p, err := tlog.ProveRecord(size, seq-1, thr)
			if err != nil {
				fail("tlog.ProveRecord(%d, %d): %v", size, seq-1, err)
			}
			if err := tlog.CheckRecord(p, size, sizeRoot, seq-1, leaf[0]); err != nil {
				fail("tlog.CheckRecord(%d, %d): %v", size, seq-1, err)
			}
			checked++
		}
		if size < cp.size {
			p, err := tlog.ProveTree(cp.size, size, thr)
			if err != nil {
				fail("tlog.ProveTree(%d, %d): %v", cp.size, size, err)
			}
			if err := tlog.CheckTree(p, cp.size, cp.root, size, sizeRoot); err != nil {
				fail("tlog.CheckTree(%d -> %d): %v", size, cp.size, err)
			}
			checked++
		}
	}

	// Waymark's proofs are the ones Go computes from the same tiles.
	for _, f := range proofs {
		var probe struct {
			Format string `json:"format"`
		}
		data := readFile(f)
		if err := jsonUnmarshal(data, &probe); err != nil {
			fail("%s: %v", f, err)
		}
		var got []string
		var want [][32]byte
		switch probe.Format {
		case "waymark-inclusion/v1":
			var d inclusionDoc
			decodeStrict(data, &d)
			p, err := tlog.ProveRecord(*d.TreeSize, *d.Seq-1, thr)
			if err != nil {
				fail("%s: tlog.ProveRecord: %v", f, err)
			}
			got = d.Path
			for _, h := range p {
				want = append(want, h)
			}
			leaf, err := thr.ReadHashes([]int64{tlog.StoredHashIndex(0, *d.Seq-1)})
			if err != nil || hex.EncodeToString(leaf[0][:]) != *d.LeafHash {
				fail("%s: leaf_hash is not the level-0 hash of seq %d", f, *d.Seq)
			}
		case "waymark-consistency/v1":
			var d consistencyDoc
			decodeStrict(data, &d)
			p, err := tlog.ProveTree(*d.NewSize, *d.OldSize, thr)
			if err != nil {
				fail("%s: tlog.ProveTree: %v", f, err)
			}
			got = d.Path
			for _, h := range p {
				want = append(want, h)
			}
		default:
			fail("%s: format %q", f, probe.Format)
		}
		if len(got) != len(want) {
			fail("%s: %d hashes, Go computes %d", f, len(got), len(want))
		}
		for i := range want {
			if got[i] != hex.EncodeToString(want[i][:]) {
				fail("%s: hash %d is %s, Go computes %x", f, i, got[i], want[i])
			}
		}
		checked++
	}
	fmt.Printf("ok: tiles of %s at tree size %d, root %s: %d tile reads, every entry bundle, %d proofs checked\n",
		cp.origin, cp.size, hex.EncodeToString(cp.root[:]), reader.read, checked)
}
