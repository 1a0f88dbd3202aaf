//! The Payments API's writes: record a payment (idempotent on its transaction id), delete payments. Both
//! go through the database's writer (`Db::write`): the answer comes once the write is committed and synced.

use crate::db::payments;
use crate::domain::payment::{NewPayment, Recorded, Selection};
use crate::domain::{Actor, WebsiteId};
use crate::error::Error;
use crate::service::App;

/// Records the payment, or answers that its transaction id is already recorded.
pub async fn record(app: &App, website: &WebsiteId, payment: NewPayment) -> Result<Recorded, Error> {
    let site = website.id().clone();
    app.db.write(move |c| payments::record(c, &site, "api", &payment)).await
}

/// Deletes the selected payments; how many. One named transaction that is not there is a 404.
pub async fn delete(app: &App, website: &WebsiteId, selection: Selection, actor: Actor) -> Result<usize, Error> {
    let single = matches!(selection, Selection::Transaction(_));
    let site = website.id().clone();
    let deleted = app.db.write(move |c| payments::delete(c, &site, &selection, &actor)).await?;
    if single && deleted == 0 {
        return Err(Error::NotFound("Payment not found".into()));
    }
    Ok(deleted)
}
