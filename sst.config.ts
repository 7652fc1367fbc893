/// <reference path="./.sst/platform/config.d.ts" />

// SST v4 app. The stacks (storage, table, bus + rules from events/topology.ts, encoder
// task, api, web) arrive with the AWS issue; until then this deploys nothing.
export default $config({
  app(input) {
    return { name: "videoforge", home: "aws", removal: input?.stage === "prod" ? "retain" : "remove" };
  },
  async run() {},
});
