//! Writes a synthetic units registry of N rows to stdout, for benchmarks:
//! `cargo run --release --example gen_registry -- 100000 > units.csv`.
//! One unit in ten is an institution under the department before it.

use std::io::{self, BufWriter, Write};

use gongkai::model::synthetic_credit_code;

fn main() -> anyhow::Result<()> {
    let n: u32 = std::env::args().nth(1).map_or(Ok(100_000), |a| a.parse())?;
    let mut out = BufWriter::new(io::stdout().lock());
    writeln!(out, "code,name,kind,parent_code,website,catalogue_url,email")?;
    for i in 0..n {
        let code = synthetic_credit_code("450100", i + 1)?;
        if i % 10 == 9 {
            let parent = synthetic_credit_code("450100", i)?;
            writeln!(out, "{code},南宁市第{i}事业单位,institution,{parent},http://u{i}.example.cn/,,")?;
        } else {
            writeln!(
                out,
                "{code},南宁市第{i}局,department,,http://u{i}.example.cn/,http://u{i}.example.cn/xxgk/,gk{i}@example.cn"
            )?;
        }
    }
    out.flush()?;
    Ok(())
}
