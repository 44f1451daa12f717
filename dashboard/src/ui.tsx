// Shared pieces: the async-data hook, error display and a hand-rolled SVG bar chart
// (no chart library: the bundle stays small).
import { useCallback, useEffect, useState, type ReactNode } from "react";
import { errorMessage } from "./api/client";
import { maxMillis, permille } from "./credits";

export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): {
  data: T | null;
  error: string | null;
  reload: () => void;
} {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    setError(null);
    load().then(
      (d) => live && setData(d),
      (e) => live && setError(errorMessage(e)),
    );
    return () => {
      live = false;
    };
  }, [...deps, n]);
  const reload = useCallback(() => setN((x) => x + 1), []);
  return { data, error, reload };
}

export function ErrorBox({ error }: { error: string | null }) {
  return error ? (
    <div className="error" role="alert">
      {error}
    </div>
  ) : null;
}

export function Card({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="card">
      <h2>{title}</h2>
      {children}
    </section>
  );
}

export interface Bar {
  label: string;
  value: string; // credits, a decimal string
  title?: string;
}

/** Vertical bars (by day) or horizontal bars (by feature); heights from exact millicredits.
 * `label` names the chart for screen readers (the vertical chart is one image). */
export function BarChart({ bars, horizontal = false, label }: { bars: Bar[]; horizontal?: boolean; label?: string }) {
  if (!bars.length) return <p className="muted">No data.</p>;
  const max = maxMillis(bars.map((b) => b.value));
  if (max === 0n) return <p className="muted">Nothing in this period.</p>;
  if (horizontal) {
    return (
      <div className="hbars">
        {bars.map((b) => (
          <div className="hbar" key={b.label} title={b.title ?? `${b.label}: ${b.value}`}>
            <span className="hbar-label">{b.label}</span>
            <span className="hbar-track">
              <span className="hbar-fill" style={{ width: `${permille(b.value, max) / 10}%` }} />
            </span>
            <span className="hbar-value">{b.value}</span>
          </div>
        ))}
      </div>
    );
  }
  const w = 12;
  const gap = 3;
  const h = 120;
  return (
    <svg className="vbars" viewBox={`0 0 ${bars.length * (w + gap)} ${h + 14}`} role="img" preserveAspectRatio="none"
      aria-label={`${label ?? "Bar chart"}, ${bars[0].label} to ${bars[bars.length - 1].label}`}>
      {bars.map((b, i) => {
        const bh = Math.round((permille(b.value, max) * h) / 1000);
        return (
          <rect key={b.label} x={i * (w + gap)} y={h - bh} width={w} height={Math.max(bh, 0)} className="bar">
            <title>{b.title ?? `${b.label}: ${b.value}`}</title>
          </rect>
        );
      })}
      <text x={0} y={h + 12} className="axis">
        {bars[0].label}
      </text>
      <text x={bars.length * (w + gap)} y={h + 12} className="axis" textAnchor="end">
        {bars[bars.length - 1].label}
      </text>
    </svg>
  );
}

export function Status({ value }: { value: string }) {
  return <span className={`status status-${value}`}>{value}</span>;
}
