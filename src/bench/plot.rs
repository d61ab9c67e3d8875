//! The picture: per kernel, the runqueue-latency histograms of every
//! scheduler side by side, and bars of each policy's ratios against the
//! default scheduler.

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::results::{KernelResults, Results};
use super::table::{ratio, Metric};
use schedc_runtime::latency::{slot_range_us, Histogram};

const WIDTH: u32 = 1200;
const ROW_HEIGHT: u32 = 420;
/// Room above the tallest bar, as a factor of it, so that the legend in the
/// upper right corner never covers a bar.
const HEADROOM: f64 = 1.5;
/// At most this many labels on an axis: more overlap at this width.
const MAX_X_LABELS: usize = 12;
const COLORS: [RGBColor; 6] = [
    RGBColor(90, 90, 90),
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
];

fn color(i: usize) -> RGBColor {
    COLORS[i % COLORS.len()]
}

/// The SVG text of the picture of `results`.
pub fn render(results: &Results) -> Result<String, String> {
    let mut svg = String::new();
    {
        let rows = results.kernels.len().max(1) as u32;
        let root = SVGBackend::with_string(&mut svg, (WIDTH, ROW_HEIGHT * rows)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        for (kernel, area) in results.kernels.iter().zip(root.split_evenly((rows as usize, 1))) {
            let (left, right) = area.split_horizontally(WIDTH * 11 / 20);
            histograms(results, kernel, &left).map_err(|e| e.to_string())?;
            ratios(results, kernel, &right).map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;
type Drawn = Result<(), Box<dyn std::error::Error>>;

/// Share of waits per log2 slot, one bar per scheduler in each slot.
fn histograms(results: &Results, kernel: &KernelResults, area: &Area) -> Drawn {
    let merged: Vec<Histogram> = results
        .schedulers
        .iter()
        .map(|name| {
            let mut h = Histogram::default();
            for s in kernel.samples.iter().filter(|s| &s.scheduler == name) {
                h.merge(&s.runqueue.histogram());
            }
            h
        })
        .collect();
    let used = |h: &Histogram| h.slots().iter().rposition(|&n| n > 0);
    let last = merged.iter().filter_map(used).max().unwrap_or(0) + 1;
    let first = merged.iter().filter_map(|h| h.slots().iter().position(|&n| n > 0)).min().unwrap_or(0);
    let share = |h: &Histogram, slot: usize| 100.0 * h.slots()[slot] as f64 / h.count().max(1) as f64;
    let top = merged.iter().flat_map(|h| (first..last).map(move |s| share(h, s))).fold(1.0, f64::max) * HEADROOM;
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("{}: runqueue latency, all workloads ({})", kernel.release, kernel.mode.name()),
            ("sans-serif", 16),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(first as f64..last as f64, 0.0..top)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(last - first + 1)
        .x_label_formatter(&|x| {
            let slot = x.round() as usize;
            // Every slot gets a tick; only every `step`-th its label.
            let step = (last - first).div_ceil(MAX_X_LABELS).max(1);
            if !(slot - first).is_multiple_of(step) {
                return String::new();
            }
            let (lo, _) = slot_range_us(slot);
            if lo >= 1000 {
                format!("{}ms", lo / 1000)
            } else {
                format!("{lo}us")
            }
        })
        .x_desc("wait (log2 slots, lower bound)")
        .y_desc("% of waits")
        .draw()?;
    let width = 0.8 / merged.len().max(1) as f64;
    for (i, (name, h)) in results.schedulers.iter().zip(&merged).enumerate() {
        if h.count() == 0 {
            continue; // a reference this kernel did not run
        }
        let c = color(i);
        let bars = (first..last).map(|slot| {
            let x0 = slot as f64 + 0.1 + width * i as f64;
            Rectangle::new([(x0, 0.0), (x0 + width, share(h, slot))], c.filled())
        });
        chart
            .draw_series(bars)?
            .label(format!("{name} (p99 {}us)", h.percentile_ns(99.0) / 1000))
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], c.filled()));
    }
    legend(&mut chart)
}

/// Each policy's median over the default's, per workload headline metric;
/// the line at 1 is the default scheduler.
fn ratios(results: &Results, kernel: &KernelResults, area: &Area) -> Drawn {
    let metrics: Vec<(String, super::plan::Workload, Metric)> = results
        .workloads
        .iter()
        .flat_map(|&w| {
            Metric::of(w).iter().filter(|m| **m != Metric::RunqueueP99 && **m != Metric::WakeupMax).map(move |&m| {
                let short = match m {
                    Metric::WakeupP50 => "p50",
                    Metric::WakeupP99 => "p99",
                    _ => "time",
                };
                // "hackbench-socket time" is wider than its bar group.
                let workload = w.name().trim_start_matches("hackbench-");
                (format!("{workload} {short}"), w, m)
            })
        })
        .collect();
    let ran = |s: &String| kernel.samples.iter().any(|sample| &sample.scheduler == s);
    let policies: Vec<(usize, &String)> =
        results.schedulers.iter().enumerate().filter(|(_, s)| *s != "default" && ran(s)).collect();
    if policies.is_empty() {
        let left_out: Vec<&str> = kernel.left_out.iter().map(|l| l.scheduler.as_str()).collect();
        let note = match left_out.as_slice() {
            [] => "no scheduler beside the default ran on this kernel".to_string(),
            names => format!("left out on this kernel: {} (see table.txt)", names.join(", ")),
        };
        let (_, h) = area.dim_in_pixel();
        area.draw(&Text::new(note, (40, h as i32 / 2), ("sans-serif", 14)))?;
        return Ok(());
    }
    let values: Vec<Vec<f64>> = policies
        .iter()
        .map(|(_, p)| metrics.iter().map(|(_, w, m)| ratio(kernel, *w, p, *m).unwrap_or(0.0)).collect())
        .collect();
    let top = values.iter().flatten().fold(1.0f64, |a, &b| a.max(b)) * HEADROOM;
    let n = metrics.len().max(1);
    let mut chart = ChartBuilder::on(area)
        .caption("median / default's median (below 1 is better)", ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(40)
        .build_cartesian_2d(-0.5..n as f64 - 0.5, 0.0..top)?; // bar group k is centred on k, under its label
    let labels: Vec<String> = metrics.iter().map(|(l, _, _)| l.clone()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n + 1)
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-9 && i >= 0.0 && (i as usize) < labels.len() {
                labels[i as usize].clone()
            } else {
                String::new()
            }
        })
        .x_label_style(("sans-serif", 11))
        .draw()?;
    let width = 0.8 / policies.len().max(1) as f64;
    for (j, ((i, name), vals)) in policies.iter().zip(&values).enumerate() {
        let c = color(*i);
        let bars = vals.iter().enumerate().map(|(k, &v)| {
            let x0 = k as f64 - 0.4 + width * j as f64;
            Rectangle::new([(x0, 0.0), (x0 + width, v)], c.filled())
        });
        chart
            .draw_series(bars)?
            .label(name.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], c.filled()));
    }
    chart.draw_series(std::iter::once(PathElement::new(vec![(-0.5, 1.0), (n as f64 - 0.5, 1.0)], BLACK)))?;
    legend(&mut chart)
}

/// The legend, in the headroom above the bars.
fn legend<'a>(chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<RangedCoordf64, RangedCoordf64>>) -> Drawn {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}
