/// <reference path="./.sst/platform/config.d.ts" />

// SST v4 app: everything lives in stacks/, one file per concern, driven by events/topology.ts.
export default $config({
  app() {
    // Nothing is retained by the app-wide policy: the stacks keep exactly the buckets, the
    // table and the user pool in prod (`retainOnDelete` on those components). SST's
    // "retain" would also keep the VPC and its subnets; docs/deploy-aws.md lists what is kept.
    return { name: "videoforge", home: "aws", removal: "remove" };
  },
  async run() {
    // order matters only through imports: each stack imports what it links
    await import("./stacks/storage.ts");
    await import("./stacks/table.ts");
    await import("./stacks/bus.ts");
    await import("./stacks/encoder.ts");
    const { subscriptions } = await import("./stacks/subscriptions.ts");
    await import("./stacks/failures.ts");
    await import("./stacks/sweeper.ts");
    const { alarmTopic } = await import("./stacks/alarms.ts");
    const { api } = await import("./stacks/api.ts");
    const { authDomain, issuer, webClient } = await import("./stacks/auth.ts");
    const { web } = await import("./stacks/web.ts");
    return {
      api: api.url,
      web: web.url,
      authDomain,
      authClientId: webClient.id,
      authIssuer: issuer,
      alarmTopic: alarmTopic.arn,
      rules: String(subscriptions.length),
    };
  },
});
