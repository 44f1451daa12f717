// The vertical bar charts' canvas, drawn by Chart.js (tree-shaken: only the bar chart's pieces
// and the tooltip are registered). Loaded on demand (React.lazy in ui.tsx), so the first
// page's JavaScript stays small; ui.tsx also renders the same data as a screen-reader table.
import { useEffect, useRef } from "react";
import { BarController, BarElement, CategoryScale, Chart, LinearScale, Tooltip } from "chart.js";
import { compareCredits } from "./credits";
import type { Bar } from "./ui";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);
Chart.defaults.font.family = "system-ui, sans-serif";
Chart.defaults.color = "#6b7385";

/** One bar per entry; `label` names the chart (the canvas is one image to screen readers). */
export default function BarCanvas({ bars, label }: { bars: Bar[]; label: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const data = JSON.stringify(bars); // rebuild when the data changes, not on every render
  useEffect(() => {
    if (!canvas.current) return;
    const rows: Bar[] = JSON.parse(data);
    // The largest value, found exactly; the y axis runs from 0 to it and labels it with its string.
    const top = rows.reduce((acc, b) => (compareCredits(b.value, acc) > 0 ? b.value : acc), "0");
    // Number() sizes the bars only (display); every amount shown (tooltip, axis) is the API's decimal string.
    const heights = rows.map((b) => Math.max(0, Number(b.value)));
    const chart = new Chart<"bar", number[], string>(canvas.current, {
      type: "bar",
      data: {
        labels: rows.map((b) => b.label),
        datasets: [{ data: heights, backgroundColor: "#4a7bd0", hoverBackgroundColor: "#2f5fb3", categoryPercentage: 0.9, barPercentage: 0.9 }],
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 12 } },
          y: {
            min: 0,
            max: Number(top),
            afterBuildTicks: (axis) => {
              axis.ticks = [{ value: 0 }, { value: Number(top) }];
            },
            ticks: { callback: (_value, index) => (index === 0 ? "0" : top) },
          },
        },
        plugins: {
          tooltip: {
            displayColors: false,
            callbacks: {
              title: (items) => rows[items[0].dataIndex].label,
              label: (item) => `${rows[item.dataIndex].value} credits`,
            },
          },
        },
      },
    });
    return () => chart.destroy();
  }, [data]);
  return <canvas ref={canvas} role="img" aria-label={label} />;
}
