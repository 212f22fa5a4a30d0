package testserver

import (
	"strconv"
	"testing"
)

func TestParseEventID(t *testing.T) {
	tests := []struct {
		in string
		id uint64
		ok bool
	}{
		{"0", 0, true},
		{"1", 1, true},
		{"42", 42, true},
		{"18446744073709551615", 1<<64 - 1, true},
		{"18446744073709551616", 0, false},
		{"", 0, false},
		{"01", 0, false},
		{"+1", 0, false},
		{"-1", 0, false},
		{" 1", 0, false},
		{"1 ", 0, false},
		{"1e3", 0, false},
		{"0x10", 0, false},
		{"١", 0, false}, // Arabic-Indic digit one
		{"99999999999999999999999", 0, false},
	}
	for _, tc := range tests {
		id, ok := ParseEventID(tc.in)
		if id != tc.id || ok != tc.ok {
			t.Errorf("ParseEventID(%q) = %d, %v; want %d, %v", tc.in, id, ok, tc.id, tc.ok)
		}
	}
}

// FuzzParseEventID checks that exactly the canonical decimal forms of uint64
// values are accepted: whatever parses formats back to the same string.
func FuzzParseEventID(f *testing.F) {
	for _, s := range []string{"0", "1", "007", "-1", "18446744073709551615", "18446744073709551616", "1\x00", "\xff", " 5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, ok := ParseEventID(s)
		if ok {
			if back := strconv.FormatUint(id, 10); back != s {
				t.Fatalf("ParseEventID(%q) = %d, which formats as %q", s, id, back)
			}
		} else if id != 0 {
			t.Fatalf("ParseEventID(%q) failed but returned %d", s, id)
		}
		if u, err := strconv.ParseUint(s, 10, 64); err == nil && strconv.FormatUint(u, 10) == s && !ok {
			t.Fatalf("ParseEventID(%q) refused the canonical form of %d", s, u)
		}
	})
}

func TestHistorySince(t *testing.T) {
	h := newHistory(3)
	if evs, ok := h.since(0); !ok || len(evs) != 0 {
		t.Errorf("empty history since 0: %v %v", evs, ok)
	}
	if _, ok := h.since(1); ok {
		t.Errorf("empty history since 1 (the future) ok")
	}
	for i := uint64(1); i <= 5; i++ {
		h.add(clockEvent{id: i})
	}
	// Holds 3, 4, 5.
	for _, tc := range []struct {
		after uint64
		want  []uint64
		ok    bool
	}{
		{0, nil, false},
		{1, nil, false},
		{2, []uint64{3, 4, 5}, true},
		{3, []uint64{4, 5}, true},
		{5, nil, true},
		{6, nil, false},
		{1<<64 - 1, nil, false},
	} {
		evs, ok := h.since(tc.after)
		var got []uint64
		for _, e := range evs {
			got = append(got, e.id)
		}
		if ok != tc.ok || len(got) != len(tc.want) {
			t.Errorf("since(%d) = %v, %v; want %v, %v", tc.after, got, ok, tc.want, tc.ok)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("since(%d) = %v; want %v", tc.after, got, tc.want)
			}
		}
	}
}

// FuzzHistorySince checks the ring buffer against its definition: after
// appending n events to a history of size k, since(a) is ok exactly when
// a <= n and every event after a is still held, and then returns ids
// a+1..n in order, none twice.
func FuzzHistorySince(f *testing.F) {
	f.Add(uint8(3), uint16(5), uint64(2))
	f.Add(uint8(1), uint16(0), uint64(0))
	f.Add(uint8(10), uint16(1000), uint64(995))
	f.Fuzz(func(t *testing.T, size uint8, n uint16, after uint64) {
		k := int(size)%64 + 1
		h := newHistory(k)
		for i := uint64(1); i <= uint64(n); i++ {
			h.add(clockEvent{id: i})
		}
		evs, ok := h.since(after)
		oldest := uint64(0)
		if int(n) > k {
			oldest = uint64(n) - uint64(k)
		}
		wantOK := after <= uint64(n) && after >= oldest
		if ok != wantOK {
			t.Fatalf("size %d, %d events: since(%d) ok=%v, want %v", k, n, after, ok, wantOK)
		}
		if !ok {
			return
		}
		if uint64(len(evs)) != uint64(n)-after {
			t.Fatalf("since(%d) returned %d events, want %d", after, len(evs), uint64(n)-after)
		}
		for i, e := range evs {
			if e.id != after+uint64(i)+1 {
				t.Fatalf("since(%d)[%d] = %d", after, i, e.id)
			}
		}
	})
}

func TestCheckLoopback(t *testing.T) {
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:8080", true},
		{"127.0.0.1:0", true},
		{"127.1.2.3:80", true},
		{"[::1]:8080", true},
		{"localhost:8080", true},
		{"0.0.0.0:8080", false},
		{":8080", false},
		{"[::]:8080", false},
		{"192.168.1.2:8080", false},
		{"10.0.0.1:80", false},
		{"example.com:80", false},
		{"127.0.0.1", false},
		{"127.0.0.1:http", false},
		{"127.0.0.1:65536", false},
		{"127.0.0.1:-1", false},
		{"[fe80::1%lo]:80", false},
		{"", false},
	} {
		err := CheckLoopback(tc.addr)
		if (err == nil) != tc.ok {
			t.Errorf("CheckLoopback(%q) = %v, want ok=%v", tc.addr, err, tc.ok)
		}
	}
	if _, err := Start(Options{Addr: "0.0.0.0:0"}); err == nil {
		t.Error("Start on 0.0.0.0 succeeded")
	}
	if _, err := Start(Options{OtherAddr: ":0"}); err == nil {
		t.Error("Start with OtherAddr :0 succeeded")
	}
}
