//! `gongkai demo`: build the demo city into its own embedded database, print the demo accounts,
//! and serve the dashboard (with the demo websites still running in this process).

use std::path::Path;

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};

use super::BadInput;
use crate::jobs::Progress;
use crate::store::{Store, StoreConfig};
use crate::web::WebConfig;

/// Marks a directory as the demo's own, so that a re-run may delete and rebuild it and nothing
/// else is ever deleted.
const MARKER: &str = ".gongkai-demo";

/// Empties the demo directory for a fresh build: only a directory the demo made itself (or an
/// empty one) is removed.
fn reset_directory(dir: &Path) -> Result<(), BadInput> {
    if dir.exists() {
        let ours = dir.join(MARKER).exists();
        let empty = std::fs::read_dir(dir).map(|mut d| d.next().is_none()).unwrap_or(false);
        if !ours && !empty {
            return Err(BadInput::new(format!(
                "目录 {} 已存在且不是演示数据库，为免误删，请用 --dir 另选一个目录",
                dir.display()
            )));
        }
        std::fs::remove_dir_all(dir)
            .map_err(|e| BadInput::new(format!("无法清空演示目录 {}：{e}", dir.display())))?;
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| BadInput::new(format!("无法创建演示目录 {}：{e}", dir.display())))?;
    std::fs::write(dir.join(MARKER), "gongkai demo database; rebuilt by every `gongkai demo`\n")
        .map_err(|e| BadInput::new(format!("无法写入 {}：{e}", dir.display())))?;
    Ok(())
}

pub(super) async fn run(dir: &Path, web: WebConfig) -> anyhow::Result<()> {
    reset_directory(dir)?;
    let url = format!("surrealkv://{}", dir.display());
    let store = Store::connect(&StoreConfig::new(url)).await?;
    eprintln!("正在建立演示城市（268 个单位的网站与公开目录、检查、评分），数据库 {} …", dir.display());
    let progress = Progress::default();
    let (bar, ticker) = super::progress::show(progress.clone(), false);
    let built = crate::demo::build(&store, &progress).await;
    ticker.abort();
    bar.finish_and_clear();
    let city = match built {
        Ok(city) => city,
        Err(error) => {
            store.close().await;
            return Err(error.into());
        }
    };
    let counts = &city.counts;
    println!(
        "演示城市已建好：{} 个单位，网站页面 {} 次访问，检查记录 {} 次（问题 {} 条），自评单位 {} 个；当前周期 {}",
        counts.units,
        counts.pages_served,
        counts.visits,
        counts.inspector_findings,
        counts.self_assessed_units,
        city.current_cycle
    );
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_header(["角色 role", "用户名 username", "密码 password", "单位/小组 unit/group"]);
    for account in &city.accounts {
        table.add_row(vec![
            account.role.label_zh().to_string(),
            account.username.clone(),
            account.password.clone(),
            account.unit.as_ref().map(ToString::to_string).or(account.group.clone()).unwrap_or_default(),
        ]);
    }
    println!("{table}");
    println!("演示账号的密码每次运行随机生成，只显示这一次。Demo passwords are new on every run.");
    println!("网页看板 Dashboard: http://{}:{}/ （Ctrl-C 停止 · stop）", web.address, web.port);
    let served = crate::web::serve(store.clone(), web).await;
    drop(city);
    store.close().await;
    Ok(served?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_demos_own_directory_is_ever_deleted() {
        let root = tempfile::tempdir().expect("tempdir");
        let foreign = root.path().join("foreign");
        std::fs::create_dir_all(&foreign).expect("dir");
        std::fs::write(foreign.join("precious.txt"), "keep").expect("file");
        assert!(reset_directory(&foreign).is_err());
        assert!(foreign.join("precious.txt").exists(), "nothing was deleted");

        let demo = root.path().join("demo");
        reset_directory(&demo).expect("a new directory is made");
        std::fs::write(demo.join("old-data"), "x").expect("file");
        reset_directory(&demo).expect("the demo's own directory is rebuilt");
        assert!(!demo.join("old-data").exists());
        assert!(demo.join(MARKER).exists());
    }
}
