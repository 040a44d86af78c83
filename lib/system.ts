// What this build of llama-napi can run on: its devices (CPU, GPUs), whether layers can be
// offloaded to a GPU, and how it was built.
import { addon, type NativeDevice } from './binding.js';
import { invalidOption, native } from './errors.js';
import { optionsObject, rejectUnknown } from './option-checks.js';
import { checkRpcServers } from './rpc.js';

/** A device ggml can compute on. */
export type Device = NativeDevice;

/** How the loaded addon was built, and llama.cpp's own report of the CPU features it uses. */
export interface BuildInfo {
  /** llama.cpp's version number and the pinned commit ("custom" for a LLAMA_CPP_DIR build). */
  llamaCpp: string;
  llamaCppCommit: string;
  /** The GPU backend compiled in: 'cuda', 'vulkan' or 'off' (see docs/building.md, "GPUs"). */
  gpu: 'off' | 'cuda' | 'vulkan';
  /** True for the portable prebuilt binary, whose CPU backend is chosen at run time. */
  cpuVariants: boolean;
  /** llama_print_system_info(): e.g. "CPU : SSE3 = 1 | AVX2 = 1 | … ". */
  systemInfo: string;
}

/** Initializes llama.cpp's backends off the main thread (loading a GPU driver can take seconds). */
async function ready() {
  const raw = addon();
  await raw.initBackend();
  return raw;
}

/**
 * The devices models can run on: the CPU, and GPUs when the build has a GPU backend and a driver;
 * with `rpcServers`, also the devices those servers serve (asked over the network).
 */
export async function listDevices(options: ListDevicesOptions = {}): Promise<Device[]> {
  const opts = optionsObject<ListDevicesOptions>('listDevices options', options);
  rejectUnknown('listDevices options', opts, ['rpcServers']);
  const servers = opts.rpcServers ?? [];
  if (!Array.isArray(servers)) invalidOption('rpcServers', 'an array of "host:port"', servers);
  await checkRpcServers('rpcServers', servers, 'RPC_FAILED');
  const raw = await ready();
  const remote = servers.length > 0 ? await native(raw.rpcDevices([...servers])) : [];
  return [...raw.devices(), ...remote];
}

/** Options of {@link listDevices}. */
export interface ListDevicesOptions {
  /**
   * RPC servers ("host:port") whose devices to list too: each is backend "RPC", type "gpu", named
   * "RPC0", "RPC1", … in the order this process first met them, with the server as its description
   * and the memory the server reports.
   */
  rpcServers?: readonly string[];
}

/** True when `gpuLayers` can move layers to a GPU (a GPU build with a usable device). */
export async function supportsGpuOffload(): Promise<boolean> {
  return (await ready()).supportsGpuOffload();
}

/** How the loaded addon was built. */
export async function buildInfo(): Promise<BuildInfo> {
  const raw = await ready();
  const { llamaCpp, llamaCppCommit, gpu, cpuVariants } = raw.versions;
  return { llamaCpp, llamaCppCommit, gpu, cpuVariants, systemInfo: raw.systemInfo() };
}
