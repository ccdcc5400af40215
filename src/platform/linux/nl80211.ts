/**
 * Which links are WiFi: nl80211 (generic netlink) lists the cfg80211 interfaces of the
 * socket's own network namespace. /sys/class/net/X/phy80211 would be simpler but shows
 * the namespace that mounted /sys, not ours. No nl80211 family (cfg80211 not loaded)
 * means no WiFi link; the lookup is repeated next time, since the module may load later.
 */
import { ENODEV, ENOENT, ErrnoFailure } from './errno.js';
import { NETLINK_GENERIC, NetlinkChannel } from './netlink-channel.js';
import { attrU32, decodeAttrs, stringAttr, u32Attr } from './netlink-codec.js';

const GENL_ID_CTRL = 16;
const CTRL_CMD_GETFAMILY = 3;
const CTRL_ATTR_FAMILY_ID = 1;
const CTRL_ATTR_FAMILY_NAME = 2;
const NL80211_CMD_GET_INTERFACE = 5;
const NL80211_ATTR_IFINDEX = 3;
const GENL_HDRLEN = 4;

function genlHeader(cmd: number, version: number): Buffer {
  return Buffer.from([cmd, version, 0, 0]);
}

export class WifiDetector {
  private channel: NetlinkChannel | undefined;
  private familyId: number | undefined;

  constructor(private readonly netns: string | undefined) {}

  /** ifindexes of the WiFi links in the namespace. */
  async wifiIndexes(): Promise<Set<number>> {
    const family = await this.family();
    const out = new Set<number>();
    if (family === undefined) return out;
    const reply = await this.open().request('list wifi interfaces', family, genlHeader(NL80211_CMD_GET_INTERFACE, 0), { dump: true });
    for (const m of reply) {
      const index = attrU32(decodeAttrs(m.payload.subarray(GENL_HDRLEN)).get(NL80211_ATTR_IFINDEX));
      if (index !== undefined) out.add(index);
    }
    return out;
  }

  async isWifi(index: number): Promise<boolean> {
    const family = await this.family();
    if (family === undefined) return false;
    const payload = Buffer.concat([genlHeader(NL80211_CMD_GET_INTERFACE, 0), u32Attr(NL80211_ATTR_IFINDEX, index)]);
    try {
      await this.open().request('get wifi interface', family, payload);
      return true;
    } catch (e) {
      // nl80211 answers ENODEV for a link that is not a wireless device.
      if (e instanceof ErrnoFailure && (e.errno === ENODEV || e.errno === ENOENT)) return false;
      throw e;
    }
  }

  close(): void {
    this.channel?.close();
    this.channel = undefined;
  }

  private open(): NetlinkChannel {
    this.channel ??= new NetlinkChannel(NETLINK_GENERIC, this.netns);
    return this.channel;
  }

  private async family(): Promise<number | undefined> {
    if (this.familyId !== undefined) return this.familyId;
    const payload = Buffer.concat([genlHeader(CTRL_CMD_GETFAMILY, 1), stringAttr(CTRL_ATTR_FAMILY_NAME, 'nl80211')]);
    try {
      const reply = await this.open().request('find nl80211', GENL_ID_CTRL, payload);
      const first = reply[0];
      const id = first ? decodeAttrs(first.payload.subarray(GENL_HDRLEN)).get(CTRL_ATTR_FAMILY_ID) : undefined;
      this.familyId = id && id.length >= 2 ? id.readUInt16LE(0) : undefined;
      return this.familyId;
    } catch (e) {
      if (e instanceof ErrnoFailure && e.errno === ENOENT) return undefined;
      throw e;
    }
  }
}
