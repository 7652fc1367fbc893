import { mergeGrants, type Grant, type Store } from "./access.ts";

/** What an IAM statement needs to know about each store. */
export interface StoreArns {
  uploads: $util.Input<string>;
  work: $util.Input<string>;
  outputs: $util.Input<string>;
  table: $util.Input<string>;
  bus: $util.Input<string>;
}

export type Permission = { actions: string[]; resources: $util.Input<string>[] };

const isBucket = (s: Store) => s === "uploads" || s === "work" || s === "outputs";

/** Grants → sst.aws.Function / Task `permissions`, scoped to the store's ARN (objects, indexes). */
export function permissionsFor(grants: readonly Grant[], arns: StoreArns): Permission[] {
  return mergeGrants(grants).flatMap(({ store, actions }): Permission[] => {
    const arn = arns[store];
    if (isBucket(store)) {
      // ListBucket applies to the bucket, object actions to its keys
      const onBucket = actions.filter((a) => a === "s3:ListBucket");
      const onObjects = actions.filter((a) => a !== "s3:ListBucket");
      return [
        ...(onObjects.length ? [{ actions: onObjects, resources: [$interpolate`${arn}/*`] }] : []),
        ...(onBucket.length ? [{ actions: onBucket, resources: [arn] }] : []),
      ];
    }
    if (store === "table") return [{ actions: [...actions], resources: [arn, $interpolate`${arn}/index/*`] }];
    return [{ actions: [...actions], resources: [arn] }];
  });
}
