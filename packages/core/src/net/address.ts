import { isIP } from "node:net";

/**
 * Where an IP address leads, as far as an outbound request is concerned:
 * - `public`: the internet;
 * - `loopback`: this machine (127.0.0.0/8, ::1);
 * - `private`: a private or carrier network (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7, …);
 * - `link-local`: the local link, where cloud metadata and credential endpoints live (169.254/16, fe80::/10,
 *   fd00:ec2::/32, …);
 * - `reserved`: anything else that is not a routable unicast address: unspecified, multicast, broadcast,
 *   documentation, benchmark, unassigned; also a string that is not an IP address at all.
 */
export type AddressKind = "public" | "loopback" | "private" | "link-local" | "reserved";

/** How an IPv6 prefix that carries an IPv4 address gives it back. */
type Embedded = { embeds: (v6: bigint) => bigint };
interface Rule {
  /** The prefix, shifted right by `shift` so that a value matches when `value >> shift === net`. */
  net: bigint;
  len: number;
  shift: bigint;
  to: AddressKind | Embedded;
}

const low32 = (v6: bigint) => v6 & 0xffff_ffffn;

// IANA's IPv4 special-purpose registry, narrowed to what must not be reached; blocks of it that are globally
// reachable (AS112, AMT, …) are left public
const V4_RULES = rules(4, [
  ["0.0.0.0/8", "reserved"], // "this network", 0.0.0.0 reaches the local host on Linux
  ["10.0.0.0/8", "private"],
  ["100.64.0.0/10", "private"], // carrier-grade NAT, shared inside a provider's network
  ["100.100.100.200/32", "link-local"], // Alibaba Cloud's metadata endpoint, inside the CGNAT block
  ["127.0.0.0/8", "loopback"],
  ["169.254.0.0/16", "link-local"], // EC2/GCP/Azure metadata at .169.254, ECS task credentials at .170.2
  ["172.16.0.0/12", "private"],
  ["192.0.0.0/24", "reserved"], // IETF protocol assignments (DS-Lite, NAT64 discovery)
  ["192.0.2.0/24", "reserved"], // documentation
  ["192.88.99.0/24", "reserved"], // retired 6to4 relay anycast
  ["192.168.0.0/16", "private"],
  ["198.18.0.0/15", "reserved"], // benchmarking
  ["198.51.100.0/24", "reserved"], // documentation
  ["203.0.113.0/24", "reserved"], // documentation
  ["224.0.0.0/4", "reserved"], // multicast
  ["240.0.0.0/4", "reserved"], // future use, and 255.255.255.255 broadcast
]);

// IPv6 is public only inside 2000::/3 (global unicast); everything outside it is reserved unless a rule says
// otherwise. Prefixes that carry an IPv4 address take the kind of that address, so ::ffff:127.0.0.1 is loopback.
const V6_RULES = rules(6, [
  ["::/0", "reserved"],
  ["2000::/3", "public"],
  ["::/128", "reserved"], // unspecified
  ["::1/128", "loopback"],
  ["::ffff:0:0/96", { embeds: low32 }], // IPv4-mapped: the socket connects to the IPv4 address
  ["::ffff:0:0:0/96", { embeds: low32 }], // IPv4-translated (SIIT)
  ["64:ff9b::/96", { embeds: low32 }], // well-known NAT64 prefix: a translator connects to the IPv4 address
  ["64:ff9b:1::/48", "private"], // local-use NAT64; where the IPv4 address sits is up to the operator
  ["100::/64", "reserved"], // discard-only
  ["2001::/23", "reserved"], // IETF protocol assignments, Teredo among them
  ["2001:db8::/32", "reserved"], // documentation
  ["2002::/16", { embeds: (v6) => (v6 >> 80n) & 0xffff_ffffn }], // 6to4: the IPv4 address follows the prefix
  ["3fff::/20", "reserved"], // documentation
  ["5f00::/16", "reserved"], // segment routing identifiers
  ["fc00::/7", "private"], // unique local
  ["fd00:ec2::/32", "link-local"], // AWS's instance services: metadata (::254), DNS (::253), time (::123)
  ["fe80::/10", "link-local"],
  ["fec0::/10", "private"], // deprecated site-local
  ["ff00::/8", "reserved"], // multicast
]);

/** The kind of `ip`, an IPv4 or IPv6 address (an IPv6 zone such as `%eth0` is ignored); "reserved" if unparseable. */
export function addressKind(ip: string): AddressKind {
  const family = isIP(ip);
  if (family === 4) return kindOf(V4_RULES, parseV4(ip));
  if (family === 6) {
    const v6 = parseV6(ip);
    const to = match(V6_RULES, v6);
    return typeof to === "string" ? to : kindOf(V4_RULES, to.embeds(v6));
  }
  return "reserved";
}

function kindOf(table: Rule[], value: bigint): AddressKind {
  const to = match(table, value);
  // IPv4 rules never embed; the check keeps the types honest
  return typeof to === "string" ? to : "reserved";
}

/** The rule with the longest matching prefix, so the tables can be read in any order. */
function match(table: Rule[], value: bigint): AddressKind | Embedded {
  let best: Rule | undefined;
  for (const rule of table) {
    if (best && rule.len <= best.len) continue;
    if (value >> rule.shift === rule.net) best = rule;
  }
  return best?.to ?? "public";
}

function rules(family: 4 | 6, list: [string, AddressKind | Embedded][]): Rule[] {
  const width = family === 4 ? 32 : 128;
  return list.map(([cidr, to]) => {
    const [ip = "", bits = ""] = cidr.split("/");
    const len = Number(bits);
    const shift = BigInt(width - len);
    const value = family === 4 ? parseV4(ip) : parseV6(ip);
    return { net: value >> shift, len, shift, to };
  });
}

/** A dotted quad already validated by isIP. */
function parseV4(ip: string): bigint {
  return ip.split(".").reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

/** An IPv6 address already validated by isIP, as a 128-bit number. */
function parseV6(ip: string): bigint {
  let text = ip.split("%")[0] ?? "";
  // a trailing dotted quad stands for the last two groups
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (quad?.[1]) {
    const v4 = parseV4(quad[1]);
    text = `${text.slice(0, quad.index)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const groups = (part: string) => (part === "" ? [] : part.split(":"));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right];
  return all.reduce((acc, group) => (acc << 16n) | BigInt(Number.parseInt(group, 16)), 0n);
}
