/** One output's decoded frame count against the source's. */
export interface FrameCheck {
  output: string;
  frames: number;
  expected: number;
}

/**
 * Frame-exact means every rendition (MP4 and HLS) decodes to exactly the source's frames;
 * -1 (could not be decoded) and an empty set both fail.
 */
export function frameVerdict(checks: readonly FrameCheck[]): { exact: boolean; problems: string[] } {
  const problems = checks
    .filter((c) => c.frames !== c.expected)
    .map((c) => `${c.output} has ${c.frames < 0 ? "no decodable" : c.frames} frames, source ${c.expected}`);
  if (checks.length === 0) problems.push("no outputs were checked");
  return { exact: problems.length === 0, problems };
}
