// Credits arrive as decimal strings with at most 3 fractional digits ("12.5", "-0.125").
// They are displayed as they arrive; the top-N bars size themselves in integer millicredits
// (BigInt) and compare amounts exactly here; only Chart.js's bar heights use Number() (Chart.tsx).

const CREDITS = /^(-?)(\d+)(?:\.(\d{1,3}))?$/;

export function toMillis(value: string): bigint {
  const m = CREDITS.exec(value.trim());
  if (!m) throw new Error(`not a credit amount: ${value}`);
  const millis = BigInt(m[2]) * 1000n + BigInt((m[3] ?? "").padEnd(3, "0"));
  return m[1] ? -millis : millis;
}

/** A bar's share of the largest value, in tenths of a percent (0-1000), from exact integers. */
export function permille(value: string, max: bigint): number {
  if (max <= 0n) return 0;
  const v = toMillis(value);
  return Number(((v < 0n ? 0n : v) * 1000n) / max);
}

export function maxMillis(values: string[]): bigint {
  return values.reduce((acc, v) => {
    const m = toMillis(v);
    return m > acc ? m : acc;
  }, 0n);
}

/** Compare two credit strings exactly: -1, 0, 1. */
export function compareCredits(a: string, b: string): number {
  const x = toMillis(a);
  const y = toMillis(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Thousands separators for the integer part, the string's own digits otherwise. */
export function formatCredits(value: string): string {
  const m = CREDITS.exec(value.trim());
  if (!m) return value;
  const int = m[2].replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${m[1]}${int}${m[3] ? "." + m[3] : ""}`;
}

const MINOR_DIGITS: Record<string, number> = { USD: 2, NGN: 2 };
const SYMBOL: Record<string, string> = { USD: "$", NGN: "₦" };

/** An integer amount in minor units (cents, kobo) as "$10.00" / "₦15,000.00", exactly. */
export function formatMoney(amountMinor: number, currency: string): string {
  const digits = MINOR_DIGITS[currency] ?? 2;
  const neg = amountMinor < 0;
  const s = String(Math.abs(Math.trunc(amountMinor))).padStart(digits + 1, "0");
  const int = s.slice(0, s.length - digits).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const frac = digits ? "." + s.slice(s.length - digits) : "";
  return `${neg ? "-" : ""}${SYMBOL[currency] ?? currency + " "}${int}${frac}`;
}
