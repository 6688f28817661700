package stream

import "testing"

// TestAddressGroup: IPv4 as it is, IPv6 by its /64, anything else unchanged.
func TestAddressGroup(t *testing.T) {
	for host, want := range map[string]string{
		"192.0.2.1":              "192.0.2.1",
		"192.0.2.1:1935":         "192.0.2.1",
		"::ffff:192.0.2.1":       "192.0.2.1",
		"2001:db8:1:2::1":        "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::9":   "2001:db8:1:2::/64",
		"[2001:db8:1:3::1]:8080": "2001:db8:1:3::/64",
		"fe80::1%eth0":           "fe80::/64",
		"not-an-address":         "not-an-address",
		"":                       "",
	} {
		if got := AddressGroup(host); got != want {
			t.Errorf("AddressGroup(%q) = %q, want %q", host, got, want)
		}
	}
}
