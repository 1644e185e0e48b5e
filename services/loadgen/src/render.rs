//! The plain-text report: a header saying where and how the run was made, one table line per
//! endpoint, the orders' journey, the gateway's overhead side by side, and the error rate.

use std::fmt::{self, Write};

use crate::config::Load;
use crate::overhead::Overhead;
use crate::report::Report;
use crate::stats::Percentiles;

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        self.write_header(&mut out)?;
        self.write_endpoints(&mut out)?;
        self.write_orders(&mut out)?;
        if let Some(overhead) = &self.overhead {
            write_overhead(&mut out, overhead)?;
        }
        self.write_verdict(&mut out)?;
        f.write_str(&out)
    }
}

impl Report {
    fn write_header(&self, out: &mut String) -> fmt::Result {
        let (m, run, setup) = (&self.machine, &self.run, &self.setup);
        let load = match run.load {
            Load::Closed { concurrency } => format!("closed loop, {concurrency} workers"),
            Load::Open {
                rate,
                max_in_flight,
            } => format!("open loop, {rate} ops/s, at most {max_in_flight} in flight"),
        };
        writeln!(out, "shop load report")?;
        writeln!(
            out,
            "  machine  {}, {} cores, {}, load average {} at start; loadgen {}; {}",
            m.cpu, m.cores, m.kernel, m.load_average, m.loadgen_version, m.date
        )?;
        writeln!(out, "  target   {} ({load})", run.gateway)?;
        writeln!(
            out,
            "  run      {:.0} s recorded after {:.0} s warm-up; mix {}; {} users; seed {}",
            run.duration_s, run.warmup_s, run.mix, run.users, run.seed
        )?;
        writeln!(
            out,
            "  catalog  {} products, {} orderable, {} search words (setup {:.1} s)",
            setup.catalog_products, setup.orderable_products, setup.search_terms, setup.seconds
        )?;
        writeln!(out)
    }

    fn write_endpoints(&self, out: &mut String) -> fmt::Result {
        let load = &self.load;
        writeln!(
            out,
            "{:<27} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>9}",
            "endpoint", "requests", "req/s", "errors", "p50 ms", "p90 ms", "p99 ms", "max ms"
        )?;
        for endpoint in &load.endpoints {
            writeln!(
                out,
                "{:<27} {:>9} {:>9.1} {:>7.2}% {}",
                endpoint.endpoint,
                endpoint.requests,
                endpoint.per_s,
                endpoint.error_rate_pct,
                latency_columns(endpoint.latency.as_ref())
            )?;
        }
        writeln!(
            out,
            "{:<27} {:>9} {:>9.1} {:>7.2}%",
            "all",
            load.requests,
            load.requests_per_s,
            crate::report::percent(load.errors, load.requests)
        )?;
        let failed: Vec<String> = load
            .endpoints
            .iter()
            .filter(|e| e.errors > 0)
            .map(|e| {
                let kinds: Vec<String> = e
                    .errors_by_kind
                    .iter()
                    .map(|(kind, count)| format!("{kind} × {count}"))
                    .collect();
                format!("{}: {}", e.endpoint, kinds.join(", "))
            })
            .collect();
        if !failed.is_empty() {
            writeln!(out, "errors   {}", failed.join("; "))?;
        }
        if let Some(cpu) = load.generator_cpu_s {
            let run = &self.run;
            let share = cpu / ((run.warmup_s + run.duration_s) * self.machine.cores as f64);
            writeln!(
                out,
                "loadgen  used {cpu:.1} CPU-s during warm-up and window ({:.1}% of the machine)",
                share * 100.0
            )?;
        }
        if load.late_starts > 0 {
            writeln!(
                out,
                "note     {} operations started over 1 ms behind schedule (all workers busy); their latency counts from the schedule",
                load.late_starts
            )?;
        }
        if load.orders_skipped > 0 {
            writeln!(
                out,
                "note     {} orders not sent: every product's stock budget was spent (browsed instead)",
                load.orders_skipped
            )?;
        }
        writeln!(out)
    }

    fn write_orders(&self, out: &mut String) -> fmt::Result {
        let orders = &self.orders;
        let s = &orders.settlement;
        writeln!(
            out,
            "orders   {} placed ({:.1}/s): {} paid, {} payment_failed, {} unsettled; all read back {:.1} s after the load",
            s.placed, orders.placed_per_s, s.paid, s.payment_failed, s.unsettled, s.waited_s
        )?;
        if s.read_errors > 0 {
            writeln!(
                out,
                "         {} failed reads while waiting (retried)",
                s.read_errors
            )?;
        }
        writeln!(
            out,
            "{:<27} {:>9} {:>9} {:>8} {}",
            "order→paid (server clock)",
            s.paid,
            "",
            "",
            latency_columns(s.order_to_paid.as_ref())
        )?;
        writeln!(out)
    }

    fn write_verdict(&self, out: &mut String) -> fmt::Result {
        let unsettled = self.orders.settlement.unsettled;
        writeln!(
            out,
            "error rate {:.2}% ({} of {} requests failed, {} orders unsettled)",
            self.error_rate_pct, self.load.errors, self.load.requests, unsettled
        )
    }
}

fn write_overhead(out: &mut String, overhead: &Overhead) -> fmt::Result {
    let (t, l) = (&overhead.throughput, &overhead.latency);
    let verdict = |pass: bool| if pass { "PASS" } else { "MISS" };
    writeln!(
        out,
        "gateway overhead: GET /api/products/{} (cached), direct vs through the gateway, alternating {} ms windows",
        overhead.product_id, overhead.window_ms
    )?;
    writeln!(out, "{:<27} {:>12} {:>12}", "", "direct", "gateway")?;
    writeln!(
        out,
        "{:<27} {:>12.0} {:>12.0}   ratio {:.2}, cost {:.1}% (target ≤ {:.0}%): {}",
        format!("req/s at concurrency {}", t.concurrency),
        t.direct_rps,
        t.gateway_rps,
        t.ratio,
        t.cost * 100.0,
        t.max_cost * 100.0,
        verdict(t.pass)
    )?;
    let pick = |p: Option<&Percentiles>, f: fn(&Percentiles) -> f64| p.map_or(f64::NAN, f);
    writeln!(
        out,
        "{:<27} {:>12.3} {:>12.3}   added {:.3} ms (target ≤ {} ms): {}",
        "p50 ms at concurrency 1",
        pick(l.direct.as_ref(), |p| p.p50_ms),
        pick(l.gateway.as_ref(), |p| p.p50_ms),
        l.added_p50_ms,
        l.max_added_p50_ms,
        verdict(l.pass)
    )?;
    writeln!(
        out,
        "{:<27} {:>12.3} {:>12.3}",
        "p99 ms at concurrency 1",
        pick(l.direct.as_ref(), |p| p.p99_ms),
        pick(l.gateway.as_ref(), |p| p.p99_ms),
    )?;
    let errors = t.direct_errors + t.gateway_errors + l.direct_errors + l.gateway_errors;
    if errors > 0 {
        writeln!(
            out,
            "errors   direct {}, gateway {}",
            t.direct_errors + l.direct_errors,
            t.gateway_errors + l.gateway_errors
        )?;
    }
    writeln!(out)
}

fn latency_columns(latency: Option<&Percentiles>) -> String {
    match latency {
        Some(p) => format!(
            "{:>8.3} {:>8.3} {:>8.3} {:>9.3}",
            p.p50_ms, p.p90_ms, p.p99_ms, p.max_ms
        ),
        None => format!("{:>8} {:>8} {:>8} {:>9}", "-", "-", "-", "-"),
    }
}
