import { describe, expect, it } from "vitest";
import { type AddressKind, addressKind } from "./address.ts";

const table: [string, AddressKind][] = [
  // IPv4
  ["8.8.8.8", "public"],
  ["1.1.1.1", "public"],
  ["172.32.0.1", "public"], // just past 172.16.0.0/12
  ["100.128.0.1", "public"], // just past the CGNAT block
  ["127.0.0.1", "loopback"],
  ["127.255.255.254", "loopback"],
  ["10.1.2.3", "private"],
  ["172.16.0.1", "private"],
  ["172.31.255.255", "private"],
  ["192.168.1.1", "private"],
  ["100.64.0.1", "private"],
  ["169.254.169.254", "link-local"],
  ["169.254.170.2", "link-local"],
  ["100.100.100.200", "link-local"],
  ["0.0.0.0", "reserved"],
  ["224.0.0.1", "reserved"],
  ["239.255.255.250", "reserved"],
  ["255.255.255.255", "reserved"],
  ["240.0.0.1", "reserved"],
  ["192.0.2.1", "reserved"],
  ["198.18.0.1", "reserved"],
  ["198.51.100.7", "reserved"],
  ["203.0.113.9", "reserved"],
  // IPv6
  ["2606:4700:4700::1111", "public"],
  ["2a00:1450:4001:80b::200e", "public"],
  ["::1", "loopback"],
  ["0:0:0:0:0:0:0:1", "loopback"],
  ["::", "reserved"],
  ["fe80::1", "link-local"],
  ["fe80::1%eth0", "link-local"],
  ["fc00::1", "private"],
  ["fd12:3456::1", "private"],
  ["fd00:ec2::254", "link-local"],
  ["ff02::1", "reserved"],
  ["2001:db8::1", "reserved"],
  ["3fff::1", "reserved"],
  ["2001::1", "reserved"], // Teredo
  ["100::1", "reserved"],
  ["4000::1", "reserved"], // outside global unicast
  // IPv6 carrying IPv4
  ["::ffff:127.0.0.1", "loopback"],
  ["::ffff:7f00:1", "loopback"],
  ["::ffff:169.254.169.254", "link-local"],
  ["::ffff:8.8.8.8", "public"],
  ["::ffff:0:10.0.0.1", "private"],
  ["64:ff9b::a00:1", "private"],
  ["64:ff9b::127.0.0.1", "loopback"],
  ["64:ff9b::808:808", "public"],
  ["64:ff9b:1::1", "private"],
  ["2002:a9fe:a9fe::1", "link-local"], // 6to4 of 169.254.169.254
  ["2002:c0a8:101::1", "private"], // 6to4 of 192.168.1.1
  ["2002:808:808::1", "public"],
  ["::127.0.0.1", "reserved"], // deprecated IPv4-compatible form
  // not addresses
  ["", "reserved"],
  ["localhost", "reserved"],
  ["[::1]", "reserved"],
  ["999.1.1.1", "reserved"],
  ["1.2.3", "reserved"],
];

describe("addressKind", () => {
  it.each(table)("%s is %s", (ip, kind) => {
    expect(addressKind(ip)).toBe(kind);
  });

  it("is exact at the edges of a block", () => {
    expect([addressKind("172.15.255.255"), addressKind("172.16.0.0"), addressKind("172.32.0.0")]).toEqual([
      "public",
      "private",
      "public",
    ]);
    expect([addressKind("100.63.255.255"), addressKind("100.127.255.255")]).toEqual(["public", "private"]);
    expect([addressKind("febf:ffff::1"), addressKind("fec0::1"), addressKind("fbff::1")]).toEqual([
      "link-local",
      "private",
      "reserved",
    ]);
  });
});
