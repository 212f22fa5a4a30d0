package testserver

import "strconv"

// ParseEventID parses a Last-Event-ID this server issued: a sequence number
// in canonical decimal (ASCII digits, no sign, no leading zero except "0"
// itself, fitting in 64 bits). Anything else was not issued here and is
// reported as !ok.
func ParseEventID(s string) (id uint64, ok bool) {
	if s == "" || len(s) > 20 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, false
	}
	return id, true
}
