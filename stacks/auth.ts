/**
 * Who may call the API on AWS: a Cognito user pool whose tokens API Gateway checks (a JWT
 * authorizer) before the Lambda runs. The app then takes the token's `sub` as the owner
 * of every job and upload, with the same ownership checks as locally.
 */
export const users = new sst.aws.CognitoUserPool("Users", { usernames: ["email"] });
export const webClient = users.addClient("Web");
export const issuer = $interpolate`https://cognito-idp.${aws.getRegionOutput().region}.amazonaws.com/${users.id}`;
