import { Parser, type M3u8Manifest } from "m3u8-parser";

/** An HLS playlist as a player's parser (m3u8-parser) reads it: the tests check manifests with it, not with ours. */
export function parseM3u8(text: string): M3u8Manifest {
  const parser = new Parser();
  parser.push(text);
  parser.end();
  return parser.manifest;
}
