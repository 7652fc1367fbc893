/**
 * Net: requests the platform makes to URLs its users gave (webhook deliveries, imports from a URL), kept to
 * the addresses a policy allows so that a URL cannot reach this machine, its network or a cloud metadata
 * endpoint. Not re-exported from the package root; import `./net/index.ts` where it is needed.
 */
export { type AddressKind, addressKind } from "./address.ts";
export {
  capBytes,
  checkHost,
  checkUrl,
  FetchError,
  guardedLookup,
  type OpenOptions,
  type OutboundPolicy,
  type OutboundResponse,
  openUrl,
  readCapped,
  TooLargeError,
  UnsafeUrlError,
} from "./outbound.ts";
