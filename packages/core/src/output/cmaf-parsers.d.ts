/**
 * The parts of m3u8-parser and mpd-parser (no bundled types) that cmaf.int.test.ts and
 * ts-hls.int.test.ts read: the packaged manifests are checked with real players' parsers, not with our own.
 */
declare module "m3u8-parser" {
  export interface M3u8Segment {
    uri: string;
    duration: number;
    map?: { uri: string };
  }
  export interface M3u8Variant {
    uri: string;
    attributes: {
      BANDWIDTH?: number;
      /** m3u8-parser 7 leaves it unparsed on EXT-X-STREAM-INF. */
      "AVERAGE-BANDWIDTH"?: string;
      CODECS?: string;
      RESOLUTION?: { width: number; height: number };
      "FRAME-RATE"?: number;
      AUDIO?: string;
      SUBTITLES?: string;
    };
  }
  /** An EXT-X-MEDIA entry, keyed by its NAME in its group. */
  export interface M3u8Rendition {
    /** Absent when the rendition's media is in the variant's own segments. */
    uri?: string;
    language?: string;
    default?: boolean;
    autoselect?: boolean;
  }
  export interface M3u8Manifest {
    version?: number;
    targetDuration?: number;
    endList?: boolean;
    playlistType?: string;
    segments: M3u8Segment[];
    playlists?: M3u8Variant[];
    mediaGroups?: {
      AUDIO: Record<string, Record<string, M3u8Rendition>>;
      SUBTITLES: Record<string, Record<string, M3u8Rendition>>;
    };
  }
  export class Parser {
    push(chunk: string): void;
    end(): void;
    manifest: M3u8Manifest;
  }
}

declare module "mpd-parser" {
  export interface MpdSegment {
    uri: string;
    resolvedUri: string;
    duration: number;
    presentationTime: number;
    map?: { uri: string; resolvedUri: string };
  }
  export interface MpdPlaylist {
    attributes: {
      NAME: string;
      BANDWIDTH: number;
      CODECS: string;
      RESOLUTION?: { width: number; height: number };
    };
    segments: MpdSegment[];
  }
  export interface MpdManifest {
    duration: number;
    playlists: MpdPlaylist[];
    /** Audio sets by group ("audio"), then by Label (else language, else "main"); Role main is the default. */
    mediaGroups: {
      AUDIO: Record<string, Record<string, { language: string; default: boolean; playlists: MpdPlaylist[] }>>;
    };
  }
  /** An element of the xmldom tree mpd-parser builds. */
  export interface MpdElement {
    tagName: string;
    textContent: string | null;
    getAttribute(name: string): string | null;
    getElementsByTagName(name: string): ArrayLike<MpdElement>;
  }
  export function parse(manifest: string, options?: { manifestUri?: string }): MpdManifest;
  /** The MPD root element; throws on XML that is not an MPD. */
  export function stringToMpdXml(manifest: string): MpdElement;
}
