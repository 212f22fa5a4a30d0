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
