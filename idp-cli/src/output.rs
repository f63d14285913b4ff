//! How the CLI prints results: JSON on stdout with `--json`, a short human summary otherwise.

use idp_core::{Error, Explanation, FileAction, Plan, Platform, Receipt, RunSummary};

/// `println!` that ends the process quietly when stdout is closed (`idp ... | head`), instead of
/// panicking on a broken pipe.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        if writeln!(out, $($arg)*).is_err() {
            std::process::exit(0);
        }
    }};
}

pub fn json(v: &serde_json::Value) {
    say!("{}", serde_json::to_string_pretty(v).expect("json"));
}

pub fn error(e: &Error, as_json: bool) {
    if as_json {
        json(&serde_json::json!({"error": e.to_json()}));
    }
    let retry = if e.retryable() { " (retryable)" } else { "" };
    eprintln!("idp: error [{}]{retry}: {e}", e.kind());
    if let Some(serde_json::Value::Array(items)) = e.details() {
        // For a denial, the decisions that denied; for other errors, every item.
        let denied = e.kind() == idp_core::ErrorKind::Denied;
        for it in items
            .iter()
            .filter(|it| !denied || it.get("allowed") == Some(&serde_json::Value::Bool(false)))
        {
            eprintln!(
                "  - {}",
                it.get("message")
                    .and_then(|m| m.as_str())
                    .unwrap_or(&it.to_string())
            );
        }
    }
}

pub fn receipt(r: &Receipt, as_json: bool) {
    if as_json {
        return json(&r.to_json());
    }
    say!(
        "{} {} for {} ({}@{}), owner {}",
        r.status.as_str(),
        r.operation,
        r.service,
        r.golden_path,
        r.scaffold_version,
        r.owner
    );
    say!("run {}", r.run_id);
    for s in &r.steps {
        let cr = s
            .change_request
            .as_ref()
            .map(|c| {
                format!(
                    "{} {} {}",
                    c.id,
                    c.state.as_str(),
                    &c.commit[..c.commit.len().min(12)]
                )
            })
            .unwrap_or_else(|| "no change".into());
        say!(
            "  {:<24} {:<16} {:>3} files  {cr}",
            s.step.as_str(),
            s.repo,
            s.artifacts.len()
        );
    }
    for (k, v) in &r.links {
        if k.ends_with("_repo") {
            say!("  {k}: {v}");
        }
    }
    for w in &r.warnings {
        say!("  warning: {w}");
    }
    if r.status == idp_core::receipt::RunStatus::Waiting
        && let Some(cr) = r.steps.iter().rev().find_map(|s| s.change_request.as_ref())
    {
        say!(
            "waiting for review: {} ({}); once it is merged, `idp resume {}` goes on",
            cr.url,
            cr.id,
            r.run_id
        );
    }
}

fn symbol(a: FileAction) -> &'static str {
    match a {
        FileAction::Create => "+",
        FileAction::Update => "~",
        FileAction::Delete => "-",
        FileAction::Unchanged => "=",
        FileAction::Keep => "k",
    }
}

pub fn plan(p: &Plan, as_json: bool, diff: bool) {
    if as_json {
        let mut v = p.to_json();
        if !diff {
            strip_diffs(&mut v);
        }
        return json(&v);
    }
    say!(
        "plan: {} for {} ({}@{})",
        p.operation,
        p.service,
        p.golden_path,
        p.scaffold_version
    );
    for cs in &p.change_sets {
        let n = cs.files.iter().filter(|f| f.writes()).count();
        say!(
            "  {} -> {}{}: {n} change(s)",
            cs.step,
            cs.repo,
            if cs.creates_repo { " (new repo)" } else { "" }
        );
        for f in &cs.files {
            let note = f
                .note
                .as_deref()
                .map(|n| format!("  ({n})"))
                .unwrap_or_default();
            say!("    {} {}{note}", symbol(f.action), f.path);
            if diff && let Some(d) = &f.diff {
                for line in d.lines() {
                    say!("      {line}");
                }
            }
        }
    }
    for w in &p.warnings {
        say!("  warning: {w}");
    }
    for d in p.decisions.iter().filter(|d| !d.allowed) {
        say!(
            "  denied: {}{} ({})",
            d.action,
            d.environment
                .as_deref()
                .map(|e| format!(" in {e}"))
                .unwrap_or_default(),
            if d.policies.is_empty() {
                "no policy permits it".to_string()
            } else {
                d.policies.join(", ")
            }
        );
    }
    for v in p.violations.iter().filter(|v| v.blocks()) {
        say!(
            "  blocked: {}:{}: {} [{}]",
            v.repo,
            v.path,
            v.message,
            v.rule
        );
    }
    if !p.allowed {
        say!("  applying this plan would be refused by the policy point (see above)");
    }
    if !p.has_changes() {
        say!("  nothing to do: everything is up to date");
    }
}

fn strip_diffs(v: &mut serde_json::Value) {
    if let Some(sets) = v.get_mut("change_sets").and_then(|s| s.as_array_mut()) {
        for cs in sets {
            if let Some(files) = cs.get_mut("files").and_then(|f| f.as_array_mut()) {
                for f in files {
                    if let Some(o) = f.as_object_mut() {
                        o.remove("diff");
                    }
                }
            }
        }
    }
}

pub fn explanation(e: &Explanation, as_json: bool) {
    if as_json {
        return json(&e.to_json());
    }
    say!(
        "{}: {}@{}, owned by {}",
        e.service,
        e.golden_path,
        e.scaffold_version,
        e.owner
    );
    for (repo, url) in &e.repos {
        say!("  repo {repo}: {url}");
    }
    for (env, values) in &e.environments {
        let pairs: Vec<String> = values
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| {
                format!(
                    "{k}={}",
                    v.as_str().map_or_else(|| v.to_string(), str::to_string)
                )
            })
            .collect();
        say!("  {env} has its own parameters: {}", pairs.join(", "));
    }
    say!();
    for f in &e.files {
        let edited = if f.current_sha256.is_none() {
            " [deleted]"
        } else if f.locally_modified {
            " [edited]"
        } else {
            ""
        };
        say!(
            "  {}:{}  {}{}{edited}\n      from {}\n      {}",
            f.repo,
            f.path,
            f.ownership.as_str(),
            if f.managed_by_platform {
                ", platform-managed"
            } else {
                ", yours"
            },
            f.provenance,
            f.how_to_override
        );
        if !f.drift.is_empty() {
            say!(
                "      differs from what idp renders at: {}",
                f.drift.join(", ")
            );
        }
    }
    if !e.infrastructure.is_empty() {
        say!("\n  infrastructure:");
        for r in &e.infrastructure {
            let why = r.why();
            say!(
                "    {} in {}: {}@{} ({}) -> {}",
                r.intent,
                r.environment,
                r.module,
                r.module_version,
                why,
                r.file
            );
            for i in &r.inputs {
                let source = serde_json::to_value(i.source)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                say!("      {:<28} {:<20} {}", i.name, source, i.value);
            }
            for b in &r.bindings {
                say!("      env {} <- secret {} key {}", b.name, b.secret, b.key);
            }
        }
    }
    if !e.change_requests.is_empty() {
        say!("\n  change requests:");
        for c in &e.change_requests {
            say!(
                "    {} {} {} ({})",
                c.id,
                c.step.as_str(),
                c.state,
                c.branch
            );
        }
    }
    say!();
    for o in &e.overrides {
        say!("  - {o}");
    }
}

pub fn runs(runs: &[RunSummary], as_json: bool) {
    if as_json {
        return json(&serde_json::to_value(runs).expect("runs serialize"));
    }
    for r in runs {
        say!(
            "{}  {:<9} {:<22} {:<20} {}  ({} step(s) done)",
            r.run_id,
            r.status.as_str(),
            r.operation,
            r.service,
            r.created_at,
            r.steps_completed.len()
        );
    }
}

pub fn golden_paths(p: &Platform, as_json: bool) {
    let list: Vec<serde_json::Value> = p
        .definition()
        .golden_paths
        .iter()
        .flat_map(|(id, versions)| {
            versions.values().map(move |gp| {
                serde_json::json!({"id": id, "version": gp.def.version, "title": gp.def.title})
            })
        })
        .collect();
    if as_json {
        return json(&serde_json::Value::Array(list));
    }
    for g in list {
        say!(
            "{}@{}  {}",
            g["id"].as_str().unwrap_or(""),
            g["version"].as_str().unwrap_or(""),
            g["title"].as_str().unwrap_or("")
        );
    }
    for (id, versions) in &p.definition().broken_golden_paths {
        for version in versions.keys() {
            say!("{id}@{version}  (does not load: run `idp golden-path check`)");
        }
    }
}

/// `idp golden-path check`: every problem, with its file and field.
pub fn golden_path_check(r: &idp_core::platform::GoldenPathCheckReport, as_json: bool) {
    if as_json {
        return json(&serde_json::to_value(r).expect("report serializes"));
    }
    for p in &r.problems {
        let at = match (&p.file, &p.field) {
            (Some(f), Some(k)) => format!("{f} ({k}): "),
            (Some(f), None) => format!("{f}: "),
            (None, Some(k)) => format!("{k}: "),
            (None, None) => String::new(),
        };
        let severity = match p.severity {
            idp_core::platform::check::Severity::Error => "error",
            idp_core::platform::check::Severity::Warning => "warning",
        };
        say!(
            "{severity}: {}@{}: {at}{}",
            p.golden_path,
            p.version,
            p.message
        );
    }
    let errors = r
        .problems
        .iter()
        .filter(|p| p.severity == idp_core::platform::check::Severity::Error)
        .count();
    say!(
        "checked {}: {} error(s), {} warning(s)",
        r.checked.join(", "),
        errors,
        r.problems.len() - errors
    );
}

/// JSON with `--json`, else the human line.
pub fn json_or(v: &serde_json::Value, as_json: bool, human: impl FnOnce() -> String) {
    if as_json {
        json(v);
    } else {
        say!("{}", human());
    }
}

pub fn policy_tests(r: &idp_core::platform::policy_tests::TestReport, as_json: bool) {
    if as_json {
        return json(&serde_json::to_value(r).expect("report serializes"));
    }
    for t in &r.results {
        say!(
            "{} {}: {}  ({})",
            if t.passed { "PASS" } else { "FAIL" },
            t.file,
            t.name,
            t.detail
        );
    }
    say!("{} passed, {} failed", r.passed, r.failed);
}

pub fn audit_verify(r: &idp_core::audit::VerifyReport, as_json: bool) {
    if as_json {
        return json(&serde_json::to_value(r).expect("report serializes"));
    }
    match &r.first_bad {
        None => say!(
            "audit log OK: {} record(s), head {}, {} signed checkpoint(s) verified",
            r.records,
            r.head,
            r.checkpoints_verified
        ),
        Some(b) => say!(
            "audit log BROKEN at record {}: {} ({} record(s) verified before it)",
            b.seq,
            b.reason,
            r.records
        ),
    }
}

pub fn audit_list(records: &[idp_core::audit::AuditRecord], as_json: bool) {
    if as_json {
        return json(&serde_json::to_value(records).expect("records serialize"));
    }
    for r in records {
        let e = &r.event;
        say!(
            "{:>6} {} {:<22} {:<18} {:<28} {:<6} {:<10} {}",
            r.seq,
            e.time,
            e.principal,
            e.operation,
            e.resource,
            e.decision,
            e.outcome,
            e.policies.join(",")
        );
    }
}

pub fn waivers(list: &[(idp_core::policy::Waiver, idp_core::policy::WaiverState)], as_json: bool) {
    if as_json {
        let v: Vec<serde_json::Value> = list
            .iter()
            .map(|(w, s)| {
                let mut v = serde_json::to_value(w).expect("waiver serializes");
                v["state"] = serde_json::to_value(s).expect("state serializes");
                v
            })
            .collect();
        return json(&serde_json::Value::Array(v));
    }
    for (w, s) in list {
        say!(
            "{}  {:<9} {:<24} {:<20} {:<8} {:<24} until {}  by {}",
            w.id,
            format!("{s:?}").to_lowercase(),
            w.rule,
            w.service,
            w.environment.as_deref().unwrap_or("*"),
            if w.operations.is_empty() {
                "*".to_string()
            } else {
                w.operations.join(",")
            },
            w.expires_at,
            w.requested_by
        );
    }
}

pub fn modules(list: &[idp_core::platform::ModuleSummary], as_json: bool) {
    if as_json {
        return json(&serde_json::to_value(list).expect("modules serialize"));
    }
    for m in list {
        let d = &m.def;
        let mut rule = Vec::new();
        if let Some(c) = &d.rule.class {
            rule.push(format!("class in [{}]", c.join(", ")));
        }
        if let Some(t) = &d.rule.environment_type {
            rule.push(format!("environment type {t}"));
        }
        if let Some(e) = &d.rule.environment {
            rule.push(format!("environment in [{}]", e.join(", ")));
        }
        say!(
            "{:<9} {:<24} {:<10} {:<8} {}  ({})",
            d.ty,
            d.name,
            format!("{:?}", d.flavour).to_lowercase(),
            d.version,
            if rule.is_empty() {
                "any request".to_string()
            } else {
                rule.join(", ")
            },
            m.file
        );
    }
}

pub fn impact(r: &idp_core::platform::ImpactReport, as_json: bool) {
    if as_json {
        return json(&serde_json::to_value(r).expect("report serializes"));
    }
    if r.affected.is_empty() && !r.unchanged.is_empty() {
        say!(
            "no service's infrastructure would change ({} checked)",
            r.unchanged.len()
        );
    } else if r.affected.is_empty() && r.not_allowed == 0 {
        say!("no service has infrastructure yet");
    }
    for s in &r.affected {
        say!("{} ({})", s.service, s.owner);
        if let Some(e) = &s.error {
            say!("  cannot resolve: {e}");
        }
        for c in &s.changes {
            say!(
                "  {} in {}: {} -> {}",
                c.intent,
                c.environment,
                c.before.as_deref().unwrap_or("(new)"),
                c.after.as_deref().unwrap_or("(removed)")
            );
            for i in &c.inputs {
                say!(
                    "      {}: {} -> {}",
                    i["name"].as_str().unwrap_or(""),
                    i["before"],
                    i["after"]
                );
            }
        }
        for f in &s.files {
            say!("  {:?} {}", f.action, f.path);
        }
    }
    if r.not_allowed > 0 {
        say!("not shown: {} service(s) you may not plan", r.not_allowed);
    }
}

pub fn upgrade(r: &idp_core::platform::UpgradeResult, as_json: bool) {
    if as_json {
        return json(&serde_json::to_value(r).expect("result serializes"));
    }
    let status = serde_json::to_value(r.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    say!(
        "{}: {} -> {} ({}): {status}",
        r.service,
        r.from,
        r.to,
        r.golden_path
    );
    for f in &r.files {
        let action = serde_json::to_value(f.action)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let from = f
            .renamed_from
            .as_deref()
            .map(|o| format!(" (from {o})"))
            .unwrap_or_default();
        let note = f
            .note
            .as_deref()
            .map(|n| format!("  - {n}"))
            .unwrap_or_default();
        say!("  {action:<12} {}:{}{from}{note}", f.repo, f.path);
        if let Some(d) = &f.diff {
            for line in d.lines() {
                say!("      {line}");
            }
        }
    }
    for c in &r.change_requests {
        say!("  change request {} ({}) {}", c.id, c.state.as_str(), c.url);
    }
    if !r.conflicts.is_empty() {
        say!(
            "  {} file(s) with conflicts: resolve them on the change request's branch and merge",
            r.conflicts.len()
        );
    }
    for w in &r.warnings {
        say!("  warning: {w}");
    }
}

pub fn fleet_upgrade(r: &idp_core::platform::FleetUpgradeReport, as_json: bool) {
    if as_json {
        return json(&serde_json::to_value(r).expect("report serializes"));
    }
    say!(
        "{:<32} {:<8} {:<8} {:<11} {:>9}  change request / error",
        "service",
        "from",
        "to",
        "outcome",
        "conflicts"
    );
    for row in &r.rows {
        let tail = row
            .error
            .clone()
            .unwrap_or_else(|| row.change_requests.join(" "));
        say!(
            "{:<32} {:<8} {:<8} {:<11} {:>9}  {tail}",
            row.service,
            row.from,
            row.to,
            row.outcome,
            row.conflicts
        );
    }
    say!(
        "{} upgraded, {} with conflicts, {} up to date, {} failed",
        r.upgraded,
        r.conflicts,
        r.up_to_date,
        r.failed
    );
}

pub fn fleet(rows: &[idp_core::platform::FleetRow], as_json: bool) {
    if as_json {
        return json(&serde_json::to_value(rows).expect("rows serialize"));
    }
    say!(
        "{:<32} {:<16} {:<24} {:<8} {:<7} drift",
        "service",
        "owner",
        "golden path",
        "version",
        "behind"
    );
    for r in rows {
        let mut drift = Vec::new();
        if !r.managed_edits.is_empty() {
            drift.push(format!("{} managed file(s) edited", r.managed_edits.len()));
        }
        if !r.deleted.is_empty() {
            drift.push(format!("{} deleted", r.deleted.len()));
        }
        if !r.drift.is_empty() {
            drift.push(format!(
                "{} merged file(s) differ from their parameters",
                r.drift.len()
            ));
        }
        say!(
            "{:<32} {:<16} {:<24} {:<8} {:<7} {}",
            r.service,
            r.owner,
            r.golden_path,
            r.version,
            if r.behind == 0 {
                "-".to_string()
            } else {
                format!("{} ({})", r.behind, r.latest)
            },
            if drift.is_empty() {
                "none".to_string()
            } else {
                drift.join(", ")
            }
        );
    }
}

pub fn ingest(r: &idp_core::platform::insights::IngestReport, as_json: bool) {
    if as_json {
        return json(&serde_json::to_value(r).expect("a report serializes"));
    }
    say!(
        "{}: {} event(s), {} new, {} recorded before, {} skipped",
        r.source,
        r.received,
        r.recorded,
        r.duplicates,
        r.skipped_count
    );
    for s in &r.skipped {
        say!("  skipped: {s}");
    }
}

fn band(b: Option<idp_core::insights::Band>) -> String {
    b.map(|b| format!("{b:?}").to_lowercase())
        .unwrap_or_else(|| "-".into())
}

fn hours_text(h: Option<f64>) -> String {
    match h {
        None => "-".into(),
        Some(h) if h < 1.0 => format!("{:.0} min", h * 60.0),
        Some(h) if h < 48.0 => format!("{h:.1} h"),
        Some(h) => format!("{:.1} d", h / 24.0),
    }
}

fn keys_line(k: &idp_core::insights::FourKeys) -> String {
    format!(
        "{:>6.2}/day {:<7} {:>9} {:<7} {:>6} {:<7} {:>9} {:<7}",
        k.deploys_per_day,
        band(Some(k.deployment_frequency_band)),
        hours_text(k.lead_time_median_hours),
        band(k.lead_time_band),
        k.change_failure_rate
            .map(|r| format!("{:.1}%", r * 100.0))
            .unwrap_or_else(|| "-".into()),
        band(k.change_failure_rate_band),
        hours_text(k.time_to_restore_median_hours),
        band(k.time_to_restore_band),
    )
}

pub fn insights(r: &idp_core::insights::InsightsReport, as_json: bool) {
    if as_json {
        return json(&serde_json::to_value(r).expect("a report serializes"));
    }
    let k = &r.four_keys;
    say!(
        "{} to {} ({:.0} days){}{}",
        r.period.from,
        r.period.to,
        r.period.days,
        r.scope
            .team
            .as_ref()
            .map(|t| format!(", team {t}"))
            .unwrap_or_default(),
        r.scope
            .service
            .as_ref()
            .map(|s| format!(", service {s}"))
            .unwrap_or_default()
    );
    say!("");
    say!(
        "deployment frequency   {:.2} per day ({} to production, {} failed)   {}",
        k.deploys_per_day,
        k.deployments,
        k.failed_deployments,
        band(Some(k.deployment_frequency_band))
    );
    say!(
        "lead time for changes  {} median over {} change(s)   {}",
        hours_text(k.lead_time_median_hours),
        k.changes,
        band(k.lead_time_band)
    );
    say!(
        "change failure rate    {}   {}",
        k.change_failure_rate
            .map(|r| format!("{:.1}%", r * 100.0))
            .unwrap_or_else(|| "-".into()),
        band(k.change_failure_rate_band)
    );
    say!(
        "time to restore        {} median over {} of {} incident(s)   {}",
        hours_text(k.time_to_restore_median_hours),
        k.restored,
        k.incidents,
        band(k.time_to_restore_band)
    );
    if !r.teams.is_empty() {
        say!("");
        say!(
            "{:<32} {:>8} {:>16} {:>17} {:>14} {:>17}",
            "team",
            "services",
            "deploys",
            "lead time",
            "failure rate",
            "restore"
        );
        for t in &r.teams {
            say!(
                "{:<32} {:>8} {}",
                t.team,
                t.services,
                keys_line(&t.four_keys)
            );
        }
    }
    let a = &r.adoption;
    say!("");
    say!(
        "adoption: {} of {} catalog components on a golden path{}; {} run(s) in the period{}",
        a.golden_path_components,
        a.catalog_components,
        a.share
            .map(|s| format!(" ({:.0}%)", s * 100.0))
            .unwrap_or_default(),
        a.runs,
        if a.runs_by_face.is_empty() {
            String::new()
        } else {
            format!(
                ": {}",
                a.runs_by_face
                    .iter()
                    .map(|(f, n)| format!("{f} {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    say!(
        "drift: {} of {} service(s) behind the latest golden-path version",
        r.drift.behind,
        r.drift.services
    );
    for d in r.drift.services_behind.iter().take(10) {
        say!(
            "  {:<32} {:<24} {} -> {} ({} behind)",
            d.service,
            d.golden_path,
            d.version,
            d.latest,
            d.behind
        );
    }
    say!(
        "latches: {} active waiver(s), {} service(s) with edited managed files",
        r.latches.active_waivers.len(),
        r.latches.managed_edits.len()
    );
    for w in &r.latches.active_waivers {
        say!(
            "  waiver {} {} {}{} until {}",
            w.id,
            w.service,
            w.rule,
            w.environment
                .as_ref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default(),
            w.expires_at
        );
    }
    for m in &r.latches.managed_edits {
        say!("  {} edited {}", m.service, m.files.join(", "));
    }
}

pub fn webhook(r: &idp_core::platform::webhooks::WebhookReport, as_json: bool) {
    if as_json {
        return json(&serde_json::to_value(r).expect("report serializes"));
    }
    let Some(ev) = &r.event else {
        say!("not about a change request: nothing to do");
        return;
    };
    say!(
        "{} {}{}: {} waiting run(s) resumed",
        ev.event,
        ev.url,
        if ev.merged { " (merged)" } else { "" },
        r.runs.len()
    );
    for run in &r.runs {
        let why = run
            .error
            .as_ref()
            .and_then(|e| e["message"].as_str())
            .map(|m| format!(": {m}"))
            .unwrap_or_default();
        say!("  {} {}{why}", run.run_id, run.status.as_str());
    }
}
