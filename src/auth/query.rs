//! The request's whole query, for routes whose parameters are open-ended.

use rocket::request::{FromRequest, Outcome, Request};

/// Every query parameter of the request, decoded, in order: for routes whose parameters are open-ended (the
/// analytics reports' `filter_<dimension>`), checked by the service, which refuses unknown and repeated ones.
pub struct QueryPairs(pub Vec<(String, String)>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for QueryPairs {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(Self(req.query_fields().map(|f| (f.name.to_string(), f.value.to_owned())).collect()))
    }
}
