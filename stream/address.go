package stream

import (
	"net"
	"net/netip"
)

// IPv6GroupBits is the prefix length that groups IPv6 clients for the
// per-address budgets and caps: one /64 is one subscriber's network (RFC
// 6177), and a host in it can take any of its 2^64 addresses.
const IPv6GroupBits = 64

// AddressGroup returns the name under which per-address budgets count a
// client ("host:port" or a bare host): an IPv4 address (also one mapped
// into IPv6) as it is, an IPv6 address as its /64 ("2001:db8:1:2::/64").
// A host that is not an IP address is returned unchanged.
func AddressGroup(addr string) string {
	host := HostOf(addr)
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is4() {
		return ip.String()
	}
	prefix, err := ip.Prefix(IPv6GroupBits)
	if err != nil {
		return ip.String()
	}
	return prefix.String()
}

// HostOf returns the host of a "host:port" address, or addr itself when it
// has no port.
func HostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}
