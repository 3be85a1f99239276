// Go duration strings (`10m`, `1h30m`), the format of every interval field in the API.
/** Go duration (`10m`, `1h30m`) to milliseconds. */
export function parseDuration(text: string): number {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  const re = /([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)/g;
  let consumed = 0;
  for (const m of text.matchAll(re)) {
    const unit = units[m[2] ?? ''];
    if (unit === undefined) throw new Error(`not a duration: ${JSON.stringify(text)}`);
    total += Number(m[1]) * unit;
    consumed += m[0].length;
  }
  if (consumed !== text.length || consumed === 0) throw new Error(`not a duration: ${JSON.stringify(text)}`);
  return total;
}
