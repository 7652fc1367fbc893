/** One storyboard cue: the tile to show while the time is in [start, end). */
export interface StoryboardTile {
  start: number;
  end: number;
  url: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

const seconds = (t: string) => t.split(":").reduce((acc, part) => acc * 60 + Number(part), 0);

/** The API's storyboard WebVTT: `HH:MM:SS.mmm --> HH:MM:SS.mmm` then `<sheet URL>#xywh=x,y,w,h`. */
export function parseStoryboard(vtt: string): StoryboardTile[] {
  const lines = vtt.split(/\r?\n/);
  const tiles: StoryboardTile[] = [];
  for (let i = 0; i < lines.length - 1; i++) {
    const time = /^([\d:.]+) --> ([\d:.]+)/.exec(lines[i]!);
    const cue = time && /^(.*)#xywh=(\d+),(\d+),(\d+),(\d+)$/.exec(lines[i + 1]!);
    if (!time || !cue) continue;
    const [x, y, w, h] = cue.slice(2).map(Number) as [number, number, number, number];
    tiles.push({ start: seconds(time[1]!), end: seconds(time[2]!), url: cue[1]!, x, y, w, h });
  }
  return tiles;
}

/** The tile shown at `t` seconds (the last one past the end). */
export function tileAt(tiles: readonly StoryboardTile[], t: number): StoryboardTile | undefined {
  return tiles.find((tile) => t >= tile.start && t < tile.end) ?? tiles.at(-1);
}
