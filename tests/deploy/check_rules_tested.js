// Every alert in k8s/base/monitoring/skewfree-rules.yaml must have a promtool unit
// test in rules_test.yaml that expects it to fire (and one that expects it
// quiet), so an alert cannot be added without a test.
"use strict";
const path = require("path");
const { repoRoot, Checker, loadYamlFile } = require("./lib");

const c = new Checker("check_rules_tested");
try {
  const [rules] = loadYamlFile(path.join(repoRoot, "k8s", "base", "monitoring", "skewfree-rules.yaml"));
  const [tests] = loadYamlFile(path.join(__dirname, "rules_test.yaml"));
  const cases = tests.tests.flatMap((t) => t.alert_rule_test || []);
  const alerts = rules.groups.flatMap((g) => g.rules).filter((r) => r.alert).map((r) => r.alert);
  c.expect(alerts.length >= 7, `at least 7 alerts, got ${alerts.length}`);
  for (const a of alerts) {
    c.expect(cases.some((t) => t.alertname === a && (t.exp_alerts || []).length > 0), `${a} has a test where it fires`);
    c.expect(cases.some((t) => t.alertname === a && (t.exp_alerts || []).length === 0), `${a} has a test where it stays quiet`);
  }
  for (const t of cases) c.expect(alerts.includes(t.alertname), `rules_test.yaml tests unknown alert ${t.alertname}`);
} catch (e) {
  c.fail(e.stack || String(e));
}
c.finish();
