/** `--size quick` and `--size full`: seconds of 1080p30. */
export const SIZES = { quick: 30, full: 180 } as const;
export type SizeName = keyof typeof SIZES;
