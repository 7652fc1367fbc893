/// <reference path="./.sst/platform/config.d.ts" />

// SST v4 app: everything lives in stacks/, one file per concern, driven by events/topology.ts.
export default $config({
  app(input) {
    return { name: "videoforge", home: "aws", removal: input?.stage === "prod" ? "retain" : "remove" };
  },
  async run() {
    // order matters only through imports: each stack imports what it links
    await import("./stacks/storage.ts");
    await import("./stacks/table.ts");
    await import("./stacks/bus.ts");
    await import("./stacks/encoder.ts");
    const { subscriptions } = await import("./stacks/subscriptions.ts");
    await import("./stacks/failures.ts");
    const { api } = await import("./stacks/api.ts");
    const { web } = await import("./stacks/web.ts");
    return { api: api.url, web: web.url, rules: String(subscriptions.length) };
  },
});
