#!/usr/bin/env bash
# The main job on the embedded store: register the reference city's 268 units, record special
# inspectors' visits and units' self-assessments, score every unit under the national
# government-website rule set, and show the ranking with its laggards.
# 主流程（嵌入式数据库）：登记参照城市的 268 个单位，录入特邀监察员检查记录和单位自评，
# 按国家政府网站指标评分并排名，标出后进单位。
#
# The example database is rebuilt on every run (data/example); point --db elsewhere for real work.
set -euo pipefail
cd "$(dirname "$0")/../.."
export GONGKAI_DB="surrealkv://data/example"
rm -rf data/example
gongkai() { cargo run --quiet -- "$@"; }

gongkai units import docs/examples/units-268.csv --format table
gongkai visits import docs/examples/visits.csv --format table
gongkai self-assess import docs/examples/self-assessment.csv --format table
gongkai rules check scoring-rules/gov-website-2019.toml --format table | head -3
gongkai assess --rules scoring-rules/gov-website-2019.toml --cycle 2026-11 --as-of 2026-11-30 --format table
gongkai ranking --cycle 2026-11 --format table | tail -8
echo "后进单位 · laggards:"
gongkai ranking --cycle 2026-11 --laggards --format table
