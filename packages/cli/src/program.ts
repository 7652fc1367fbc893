import { createRequire } from "node:module";
import { Command, Option } from "commander";
import type { ApiOptions } from "./commands.ts";
import {
  captionsFile,
  formats,
  httpUrl,
  ladder,
  lufs,
  nonNegativeNumber,
  oneOf,
  port,
  positiveNumber,
  ssimTarget,
  trimRange,
  videoFormats,
  wholeNumber,
} from "./options.ts";
// the ladder module alone (options.ts loads it anyway): --help must not load the whole core
import { DEFAULT_LADDER, RUNGS } from "@videoforge/core/ladder";
import type { VideoFormat } from "@videoforge/core/formats";
import { SIZES, type SizeName } from "./bench/sizes.ts";
import { registerLogin } from "./aws-commands.ts";

/**
 * The `videoforge` command line. Every option is typed and checked while the line is
 * parsed, before any command starts; each command's implementation is imported only when
 * it runs, so `--help` is instant and `up` never loads the bench's dependencies.
 *
 * An action returns the process's exit code. To add a command: declare it here with its
 * options, and import its implementation inside the action.
 */
export function buildProgram(): Command {
  const { version } = createRequire(import.meta.url)("../package.json") as { version: string };
  const program = new Command("videoforge")
    .description("chunk-parallel video encoding on an event-driven local cloud")
    .version(version, "-V, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .helpCommand("help [command]", "show help for a command")
    .showHelpAfterError("(videoforge <command> --help shows the usage)")
    .configureHelp({ sortSubcommands: false, showGlobalOptions: false });

  program
    .command("up")
    .description("start the local cloud (DynamoDB, S3, event bus, workers), the HTTP API and the dashboard")
    .addOption(new Option("--port <port>", "API port; 0 picks a free one (default: $PORT or 8080)").argParser(port))
    .option("--host <address>", "address the API listens on", "127.0.0.1")
    .addOption(dataDirOption())
    .option("--no-auth", "serve the API without tokens (only on a loopback address)")
    .addOption(chunkSecondsOption())
    .action(run(async (opts: import("./commands.ts").UpOptions) => (await import("./commands.ts")).up(opts)));

  jobOptions(
    program
      .command("encode")
      .description("process one file end to end on an embedded local cloud and write the outputs to DIR")
      .argument("<file>", "the video to encode")
      .option("-o, --out <dir>", "where the outputs go", "out"),
  )
    .option("--json", "print {jobId, status, source, outputs, hls, timings} on stdout")
    .addOption(chunkSecondsOption())
    .action(
      run(async (file: string, opts: import("./commands.ts").EncodeOptions) =>
        (await import("./commands.ts")).encode(file, opts),
      ),
    );

  apiOptions(
    jobOptions(
      program
        .command("submit")
        .description(
          "upload a file to a running `up` through presigned multipart URLs, or have it fetch an https URL; " +
            "prints the job id",
        )
        .argument("<file-or-url>", "the video to upload, or an https:// URL the platform fetches"),
    )
      .option("--wait", "follow the job until it ends; exit 1 unless it completes")
      .option("-o, --out <dir>", "with --wait: download the outputs here when the job completes"),
  ).action(
    run(async (file: string, opts: ApiOptions & { wait?: boolean; out?: string }) => {
      if (opts.out && !opts.wait)
        throw new Error("--out needs --wait (or use `videoforge download JOB --out DIR` later)");
      return (await import("./commands.ts")).submit(file, opts);
    }),
  );

  apiOptions(program.command("jobs").description("the jobs of a running `up`, newest first")).action(
    run(async (opts: ApiOptions) => (await import("./commands.ts")).jobs(opts)),
  );

  apiOptions(
    program
      .command("events")
      .description("one job's timeline with offsets, and its failure reason")
      .argument("<job>", "the job id (see `videoforge jobs`)"),
  ).action(run(async (jobId: string, opts: ApiOptions) => (await import("./commands.ts")).events(jobId, opts)));

  apiOptions(
    program
      .command("download")
      .description(
        "fetch every output of a finished job (MP4s, HLS playlists and segments, poster) and check their sizes",
      )
      .argument("<job>", "the job id (see `videoforge jobs`)")
      .requiredOption("-o, --out <dir>", "where the outputs go"),
  ).action(
    run(async (jobId: string, opts: ApiOptions & { out: string }) =>
      (await import("./commands.ts")).download(jobId, opts),
    ),
  );

  const dlq = program
    .command("dlq")
    .description("the dead-letter store of a running `up`: what ran out of retries, and put it back");
  apiOptions(dlq.command("list", { isDefault: true }).description("the dead letters, newest last")).action(
    run(async (opts: ApiOptions) => {
      const [{ clientFor }, { dlqList }] = await Promise.all([import("./commands.ts"), import("./admin-commands.ts")]);
      return dlqList(clientFor(opts));
    }),
  );
  apiOptions(
    dlq
      .command("redrive")
      .description("put a dead letter back on the bus; its job is reopened")
      .argument("[id]", "the dead letter's id (see `videoforge dlq list`)")
      .option("--all", "every dead letter"),
  ).action(
    run(async (id: string | undefined, opts: ApiOptions & { all?: boolean }) => {
      const [{ clientFor }, { dlqRedrive }] = await Promise.all([
        import("./commands.ts"),
        import("./admin-commands.ts"),
      ]);
      return dlqRedrive(clientFor(opts), id, opts.all === true);
    }),
  );

  const webhooks = program
    .command("webhooks")
    .description("signed event deliveries to your endpoints: register, list, remove, inspect, try out");
  // the API client of the options, and the commands' module, loaded only when a webhooks command runs
  const hooks = async (opts: ApiOptions) => {
    const [{ clientFor }, commands] = await Promise.all([import("./commands.ts"), import("./webhook-commands.ts")]);
    return { client: clientFor(opts), ...commands };
  };
  apiOptions(
    webhooks
      .command("add")
      .description("register an endpoint; prints its signing secret once")
      .argument("<url>", "where deliveries are POSTed (https; http://127.0.0.1 works with `up`)")
      .option("--events <list>", "comma-separated: video.ready,job.completed,job.failed,job.cancelled,video.deleted"),
  ).action(
    run(async (url: string, opts: ApiOptions & { events?: string }) => {
      const h = await hooks(opts);
      return h.webhooksAdd(h.client, url, opts.events);
    }),
  );
  apiOptions(webhooks.command("list", { isDefault: true }).description("your endpoints, newest first")).action(
    run(async (opts: ApiOptions) => {
      const h = await hooks(opts);
      return h.webhooksList(h.client);
    }),
  );
  apiOptions(webhooks.command("rm").description("remove an endpoint").argument("<id>", "the webhook's id")).action(
    run(async (id: string, opts: ApiOptions) => {
      const h = await hooks(opts);
      return h.webhooksRemove(h.client, id);
    }),
  );
  apiOptions(
    webhooks
      .command("deliveries")
      .description("an endpoint's newest deliveries: status, attempts, the last error")
      .argument("<id>", "the webhook's id"),
  ).action(
    run(async (id: string, opts: ApiOptions) => {
      const h = await hooks(opts);
      return h.webhooksDeliveries(h.client, id);
    }),
  );
  apiOptions(
    webhooks
      .command("redeliver")
      .description("send one delivery again (same body and id)")
      .argument("<id>", "the webhook's id")
      .argument("<delivery>", "the delivery's id (see `webhooks deliveries`)"),
  ).action(
    run(async (id: string, delivery: string, opts: ApiOptions) => {
      const h = await hooks(opts);
      return h.webhooksRedeliver(h.client, id, delivery);
    }),
  );
  apiOptions(
    webhooks
      .command("listen")
      .description("receive deliveries here, print those whose signature verifies (registers itself unless --secret)")
      .option("--port <n>", "port to listen on", "4040")
      .option("--host <addr>", "address to listen on", "127.0.0.1")
      .option("--secret <whsec>", "verify with this secret instead of registering a new endpoint")
      .option("--events <list>", "the events to register for (all when absent)"),
  ).action(
    run(async (opts: ApiOptions & { port: string; host: string; secret?: string; events?: string }) => {
      const h = await hooks(opts);
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 1 || port > 65535)
        throw new Error(`--port must be 1-65535, got ${opts.port}`);
      return h.webhooksListen(h.client, { port, host: opts.host, secret: opts.secret, events: opts.events });
    }),
  );

  const users = program
    .command("users")
    .description("local users, each with their own token and their own jobs (--aws: users of a deployed stage)");
  users
    .command("add")
    .description(
      "add a local user and print its token once; " +
        "with --aws, create EMAIL in the stage's Cognito user pool (AdminCreateUser)",
    )
    .argument("<name>", "the user's name (with --aws: their email)")
    .addOption(dataDirOption())
    .option("--aws", "a user of a deployed stage, in its Cognito user pool (needs AWS credentials)")
    .option("--user-pool-id <id>", "with --aws: the pool's id, from the stack's outputs (e.g. eu-west-1_AbCdEf123)")
    .option("--region <region>", "with --aws: the pool's region (default: the one in the pool id)")
    .action(
      run(async (name: string, opts: { dataDir?: string; aws?: boolean; userPoolId?: string; region?: string }) => {
        if (opts.aws) return (await import("./aws-commands.ts")).usersAddAws(name, opts.userPoolId, opts.region);
        const [{ dataDirOf }, { usersAdd }] = await Promise.all([
          import("./commands.ts"),
          import("./admin-commands.ts"),
        ]);
        return usersAdd(name, dataDirOf(opts));
      }),
    );
  users
    .command("remove")
    .description("remove a local user: their token stops working at once, in a running `up` too")
    .argument("<name>", "the user's name")
    .addOption(dataDirOption())
    .action(
      run(async (name: string, opts: { dataDir?: string }) => {
        const [{ dataDirOf }, { usersRemove }] = await Promise.all([
          import("./commands.ts"),
          import("./admin-commands.ts"),
        ]);
        return usersRemove(name, dataDirOf(opts));
      }),
    );
  users
    .command("rotate")
    .description("give a local user a new token (printed once); the old one stops working at once")
    .argument(
      "<name>",
      "the user's name (`local` is this machine's own: its new token is also written to <data-dir>/token)",
    )
    .addOption(dataDirOption())
    .action(
      run(async (name: string, opts: { dataDir?: string }) => {
        const [{ dataDirOf }, { usersRotate }] = await Promise.all([
          import("./commands.ts"),
          import("./admin-commands.ts"),
        ]);
        return usersRotate(name, dataDirOf(opts));
      }),
    );
  registerLogin(program);

  const sizes = Object.keys(SIZES) as SizeName[];
  program
    .command("bench")
    .description(
      "the pipeline against one plain ffmpeg command making the same outputs (MP4s, HLS, poster): wall time, CPU, " +
        "peak memory, SSIM, sizes; exits 1 when the pipeline's outputs are not frame-exact",
    )
    .addOption(
      new Option(
        "--size <size>",
        `generated 1080p30 source: ${sizes.map((s) => `${s} (${SIZES[s]} s)`).join(", ")}`,
      ).argParser(oneOf("--size", sizes)),
    )
    .addOption(
      new Option("--seconds <n>", "length of the generated source (overrides --size)").argParser(positiveNumber),
    )
    .addOption(new Option("--reps <n>", "repetitions of each side (default: 3)").argParser(wholeNumber(1)))
    .addOption(
      new Option(
        "--codecs <list>",
        "comma-separated video codecs: h264 hevc vp9 av1, each compared in turn " +
          "(`encode --formats <codec>` against ffmpeg in that codec): a table each, then a summary (default: h264)",
      ).argParser(videoFormats),
    )
    .option("--source <file>", "a video to use instead of a generated clip")
    .addOption(chunkSecondsOption())
    .option("--keep <dir>", "keep the scratch folder here")
    .addOption(
      new Option(
        "--orchestration",
        "instead: bus dispatch latency and rate, fixed overhead, 50 jobs at once",
      ).conflicts(["memory", "scaling"]),
    )
    .addOption(
      new Option("--memory", "instead: peak RSS of every process for a ~2 GB upload and a long source").conflicts([
        "scaling",
      ]),
    )
    .addOption(new Option("--scaling", "instead: the Fargate latency/cost model"))
    .addOption(
      new Option(
        "--target-ssim <ssim>",
        "instead: a job with this target quality against one CRF, and the bytes saved at equal mean SSIM",
      )
        .argParser(ssimTarget)
        .conflicts(["orchestration", "memory", "scaling"]),
    )
    .option("--scenes", "generate a source of three kinds of picture (test patterns, a grainy fractal, colour bars)")
    .option("--png <file>", "with --scaling: where the chart goes", "docs/scaling.png")
    .action(
      run(async (opts: BenchFlags) => {
        const { resolve } = await import("node:path");
        const { bench } = await import("./bench.ts");
        const mode = opts.orchestration
          ? "orchestration"
          : opts.memory
            ? "memory"
            : opts.scaling
              ? "scaling"
              : opts.targetSsim !== undefined
                ? "quality"
                : "compare";
        return bench({ ...opts, mode, source: opts.source && resolve(opts.source) });
      }),
    );

  return program;
}

interface BenchFlags {
  size?: SizeName;
  seconds?: number;
  reps?: number;
  codecs?: VideoFormat[];
  source?: string;
  chunkSeconds?: number;
  keep?: string;
  png?: string;
  orchestration?: boolean;
  memory?: boolean;
  scaling?: boolean;
  targetSsim?: number;
  scenes?: boolean;
}

/** `--api`, `--token`, `--data-dir`: how a command reaches a running `up`. */
function apiOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        "--api <url>",
        "the API of a running `up` (default: $VIDEOFORGE_API, else http://127.0.0.1:$PORT or :8080)",
      ).argParser(httpUrl),
    )
    .addOption(new Option("--token <token>", "API token (default: $VIDEOFORGE_TOKEN or <data-dir>/token)"))
    .addOption(dataDirOption());
}

function dataDirOption() {
  return new Option("--data-dir <dir>", "the local state directory (default: $VIDEOFORGE_DATA_DIR or .videoforge)");
}

function ladderOption() {
  const rungs = Object.keys(RUNGS).join(" ");
  return new Option(
    "--ladder <rungs>",
    `comma-separated rungs: ${rungs} (default: ${DEFAULT_LADDER.join(",")})`,
  ).argParser(ladder);
}

function formatsOption() {
  return new Option(
    "--formats <list>",
    "comma-separated outputs: h264 hevc vp9 av1 (video, one file per rung) m4a mp3 (audio only) (default: h264)",
  ).argParser(formats);
}

/** What a job is made of, the same for `encode` and `submit`. */
function jobOptions(command: Command): Command {
  return command
    .addOption(ladderOption())
    .addOption(formatsOption())
    .addOption(posterAtOption())
    .addOption(trimOption())
    .addOption(packagingOption())
    .addOption(loudnessOption())
    .addOption(targetSsimOption())
    .addOption(captionsOption())
    .addOption(watermarkOption())
    .addOption(watermarkPositionOption());
}

function watermarkOption() {
  return new Option(
    "--watermark <image>",
    "lay a PNG or JPEG (≤ 256 KiB) over every frame, 15 % of the width, 80 % opaque",
  );
}

function watermarkPositionOption() {
  return new Option("--watermark-position <where>", "where the watermark sits (default bottom-right)").choices([
    "top-left",
    "top-right",
    "bottom-left",
    "bottom-right",
    "center",
  ]);
}

function captionsOption() {
  return new Option(
    "--captions <lang=file>",
    "attach a captions file (.srt or .vtt), repeatable: --captions en=en.srt --captions fr=fr.vtt",
  ).argParser(captionsFile);
}

function loudnessOption() {
  return new Option(
    "--loudness <lufs>",
    "normalise the audio to this integrated loudness, EBU R128 (-23 broadcast, -16 streaming)",
  ).argParser(lufs);
}

function targetSsimOption() {
  return new Option(
    "--target-ssim <ssim>",
    "encode every chunk of every rung to at least this SSIM with the fewest bits (its CRF searched; ~3-4x the work)",
  ).argParser(ssimTarget);
}

function trimOption() {
  return new Option(
    "--trim <start-end>",
    "keep only this range of the source, in seconds or [h:]m:s, frame-exact: 5-12, 1:30-2:45, 10-",
  ).argParser(trimRange);
}

function packagingOption() {
  return new Option(
    "--packaging <kind>",
    "HLS segments: cmaf (fragmented MP4, shared with DASH; default) or ts (MPEG-TS for old players; H.264/HEVC)",
  ).choices(["cmaf", "ts"]);
}

function posterAtOption() {
  return new Option(
    "--poster-at <seconds>",
    "where the poster is taken (default: a tenth into the video, at most 3 s)",
  ).argParser(nonNegativeNumber);
}

function chunkSecondsOption() {
  return new Option(
    "--chunk-seconds <n>",
    "target chunk length in seconds (default: $VIDEOFORGE_CHUNK_SECONDS or 8)",
  ).argParser(positiveNumber);
}

/**
 * Wraps an action: its result becomes the exit code. Commander passes the positional
 * arguments, then the options, then the command itself; the command is dropped here.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function run<A extends any[]>(action: (...args: A) => Promise<number>) {
  return async (...args: unknown[]) => {
    process.exitCode = await action(...(args.slice(0, -1) as A));
  };
}
