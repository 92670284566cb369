use crate::config::{ServeArgs, StoreArgs};
use crate::startup::App;

pub async fn run(store_args: &StoreArgs, args: ServeArgs) -> anyhow::Result<()> {
    let store = super::open_store(store_args).await?;
    let app = App::build(store, &args, &store_args.data_dir).await?;
    println!("Ferry listening on {}", app.base_url);
    app.run().await
}
