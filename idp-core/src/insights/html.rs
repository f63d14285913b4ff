//! The insights report as one self-contained HTML page: the report's JSON inside, drawn as SVG
//! charts by the page's own script, with no network access (it opens offline, from a file or an
//! email attachment).

use super::InsightsReport;

const TEMPLATE: &str = include_str!("report.html");
const DATA: &str = "__IDP_INSIGHTS_JSON__";
const TITLE: &str = "__IDP_TITLE__";

/// The report as HTML.
pub fn render(report: &InsightsReport) -> String {
    let json = serde_json::to_string(report).expect("a report serializes");
    // Inside <script>, `</script>` or `<!--` in a service or team name must not end the element.
    let json = json
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    let mut title = String::from("idp insights");
    for s in [&report.scope.team, &report.scope.service]
        .into_iter()
        .flatten()
    {
        title.push_str(" · ");
        title.push_str(s);
    }
    let title = title
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    // Substituted by position in the template, so neither value can smuggle in the other's
    // placeholder.
    let (head, rest) = TEMPLATE.split_once(TITLE).expect("the title placeholder");
    let (mid, tail) = rest.split_once(DATA).expect("the data placeholder");
    let mut out = String::with_capacity(TEMPLATE.len() + json.len() + title.len());
    out.push_str(head);
    out.push_str(&title);
    out.push_str(mid);
    out.push_str(&json);
    out.push_str(tail);
    out
}
