/** Feeds a child process's output to `onLine` one whole, non-empty line at a time (a line may span reads). */
export function wholeLines(onLine: (line: string) => void): (data: Buffer) => void {
  let partial = "";
  return (data) => {
    const lines = (partial + data.toString("utf8")).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) if (line.trim()) onLine(line);
  };
}
