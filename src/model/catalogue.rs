//! One entry of a unit's disclosure catalogue (政府信息公开目录, DESIGN.md §5), as read from the
//! catalogue's class pages. Every field but the class and title may be absent: the checks
//! decide what an absence means.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::OrgCode;

/// A catalogue entry. Field names are the stable JSON names of `gongkai catalogue list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueEntry {
    /// The unit whose catalogue lists the entry.
    pub unit: OrgCode,
    /// The catalogue class (类目) the entry is listed under, e.g. 政策法规.
    pub class: String,
    /// 索引号, e.g. `000014349/2026-00012`.
    pub index_no: Option<String>,
    /// 名称 / 标题. Empty when the page left it blank.
    pub title: String,
    /// 发布机构.
    pub publisher: Option<String>,
    /// 生成日期 / 发布日期.
    pub created_on: Option<NaiveDate>,
    /// 文号.
    pub doc_no: Option<String>,
    /// 主题分类.
    pub topic: Option<String>,
    /// 体裁分类.
    pub genre: Option<String>,
    /// 服务对象分类.
    pub service: Option<String>,
    /// The entry's own page when the row links to one, else the class page that lists it.
    pub url: Option<String>,
}
