import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  color: string;
}

/**
 * A line chart over the report's buckets (uPlot: small, canvas-based, no dependencies). `x` are
 * the buckets' first days (YYYY-MM-DD); `format` writes a value on the axis and in the legend.
 */
export function Chart({
  title,
  x,
  series,
  format,
  locale,
  xLabel,
}: {
  locale: string;
  /** The legend's name of the x value (the bucket's first day). */
  xLabel: string;
  title: string;
  x: string[];
  series: ChartSeries[];
  format: (value: number) => string;
}) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = host.current;
    if (!element) return;
    const day = new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', timeZone: 'UTC' });
    const xs = x.map((day) => Date.parse(`${day}T00:00:00Z`) / 1000);
    const plot = new uPlot(
      {
        title,
        width: Math.max(320, element.clientWidth),
        height: 220,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
        scales: { x: { time: true } },
        series: [
          {
            label: xLabel,
            value: (_u: uPlot, ts: number | null) => (ts === null ? '—' : day.format(new Date(ts * 1000))),
          },
          ...series.map((s) => ({
            label: s.label,
            stroke: s.color,
            width: 2,
            points: { show: x.length < 60 },
            value: (_u: uPlot, v: number | null) => (v === null ? '—' : format(v)),
          })),
        ],
        axes: [
          { values: (_u, ticks) => ticks.map((ts) => day.format(new Date(ts * 1000))) },
          { values: (_u, ticks) => ticks.map((v) => format(v)), size: 70 },
        ],
      },
      [xs, ...series.map((s) => s.values)] as uPlot.AlignedData,
      element,
    );
    const resize = new ResizeObserver(() =>
      plot.setSize({ width: Math.max(320, element.clientWidth), height: 220 }),
    );
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [title, x, series, format, locale, xLabel]);
  return <div className="chart" ref={host} role="img" aria-label={title} />;
}
