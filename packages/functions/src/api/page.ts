/** Served at / until the dashboard lands: says what runs and where to look. */
export const placeholderPage = [
  "<!doctype html>",
  '<html lang="en"><head><meta charset="utf-8"><title>videoforge</title>',
  "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}" +
    "code{background:#eee;padding:0 .3em}</style></head>",
  "<body><h1>videoforge is running</h1>",
  "<p>The local cloud (DynamoDB on dynalite, S3 on s3rver, the event bus) and this API are up.</p>",
  "<p>Submit a video with <code>npx videoforge submit my-video.mov --wait</code>, " +
    "list jobs with <code>npx videoforge jobs</code>,",
  "follow one with <code>npx videoforge events JOB_ID</code>. " +
    'JSON: <a href="/jobs">/jobs</a>, <a href="/health">/health</a>.</p>',
  "</body></html>",
].join("\n");

/** The placeholder needs nothing but its own inline style: no scripts, no Referer, no framing. */
export const placeholderHeaders = {
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'",
  "referrer-policy": "no-referrer",
};
