/*
 * lldp-listen: the receive-only LLDP agent of the ephemeral environment. MAAS commissions with
 * lldpd (passive, `-r`) and stores `lldpctl -f xml`; Debian's lldpctl needs libxml2 (and libicu,
 * ~35 MB) for that output and lldpd links libsnmp, so this small program hears LLDP frames
 * (ethertype 0x88cc) on an AF_PACKET socket and prints what it heard in lldpctl's XML: the
 * document MAAS keeps as a machine's lldp details and its `lldp:` tag definitions match.
 * Built by images/ephemeral/build.sh.
 *
 *   lldp-listen [-t SECONDS] [-o FILE]  listen on every Ethernet interface for at most SECONDS
 *                                       (default 5), ending early once each interface that is up
 *                                       has heard a neighbour; write the XML to FILE (atomically,
 *                                       through FILE.tmp) or stdout
 *   lldp-listen --replay                read frames from stdin, one "IFNAME HEX" line each (the
 *                                       whole Ethernet frame in hex), as if heard on IFNAME; the
 *                                       tests' way of feeding it crafted frames
 *
 * A frame is parsed with every length checked against what was received; a malformed one (no
 * chassis ID, port ID and TTL first, a TLV running past the frame, an empty ID) is skipped. A frame
 * with TTL 0 (a neighbour shutting down) forgets that neighbour, as lldpd does. Text is escaped for
 * XML and bytes that are not UTF-8 become '?', so the document is always well-formed. No neighbour
 * heard: <lldp label="LLDP neighbors"/>, lldpctl's empty answer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ETH_P_LLDP_ 0x88cc
#define MAX_NEIGHBORS 64
#define MAX_MGMT 4
#define TLV_MAX 511 /* a TLV's length is 9 bits */

struct mgmt {
  char addr[64];
  uint32_t iface;
  int has_iface;
};

struct neighbor {
  char ifname[IF_NAMESIZE];
  int rid;
  time_t seen;
  int cid_sub, pid_sub;
  uint8_t cid[TLV_MAX], pid[TLV_MAX];
  int cid_len, pid_len;
  unsigned ttl;
  /* strings as received (length-counted; escaped when printed) */
  uint8_t name[TLV_MAX], descr[TLV_MAX], pdescr[TLV_MAX];
  int name_len, descr_len, pdescr_len; /* -1: absent */
  int has_caps;
  uint16_t cap_avail, cap_enabled;
  struct mgmt mgmt[MAX_MGMT];
  int n_mgmt;
};

static struct neighbor neighbors[MAX_NEIGHBORS];
static int n_neighbors, next_rid = 1;

/* --- output -------------------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when it is not one. */
static int utf8_len(const uint8_t *s, int n) {
  int len;
  uint32_t cp;
  if (s[0] < 0x80) return 1;
  if ((s[0] & 0xe0) == 0xc0) len = 2, cp = s[0] & 0x1f;
  else if ((s[0] & 0xf0) == 0xe0) len = 3, cp = s[0] & 0x0f;
  else if ((s[0] & 0xf8) == 0xf0) len = 4, cp = s[0] & 0x07;
  else return 0;
  if (len > n) return 0;
  for (int i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    cp = cp << 6 | (s[i] & 0x3f);
  }
  /* overlong forms, surrogates and past U+10FFFF are not UTF-8; U+FFFE and U+FFFF are not XML */
  if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
      (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
    return 0;
  return len;
}

/* Text for an XML element or attribute value: escaped, control characters and non-UTF-8 as '?'. */
static void put_text(FILE *f, const uint8_t *s, int n) {
  for (int i = 0; i < n;) {
    uint8_t c = s[i];
    int len = utf8_len(s + i, n - i);
    if (len == 0) {
      fputc('?', f);
      i++;
      continue;
    }
    if (len > 1) {
      fwrite(s + i, 1, len, f);
      i += len;
      continue;
    }
    i++;
    if (c == '&') fputs("&amp;", f);
    else if (c == '<') fputs("&lt;", f);
    else if (c == '>') fputs("&gt;", f);
    else if (c == '"') fputs("&quot;", f);
    else if (c == '\'') fputs("&apos;", f);
    else if (c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c != 0x7f)) fputc(c, f);
    else fputc('?', f);
  }
}

static void put_hex(FILE *f, const uint8_t *s, int n) {
  for (int i = 0; i < n; i++) fprintf(f, "%s%02x", i ? ":" : "", s[i]);
}

static int printable(const uint8_t *s, int n) {
  for (int i = 0; i < n; i++)
    if (s[i] < 0x20 || s[i] == 0x7f) return 0;
  return 1;
}

/* An IANA-family address (1 IPv4, 2 IPv6) as text into out; 0 when it is neither. */
static int ip_text(const uint8_t *s, int n, char *out, size_t size) {
  if (n == 5 && s[0] == 1) return inet_ntop(AF_INET, s + 1, out, size) != NULL;
  if (n == 17 && s[0] == 2) return inet_ntop(AF_INET6, s + 1, out, size) != NULL;
  return 0;
}

/* An ID's type and value as lldpctl shows them (its chassis_id/port_id subtype maps). */
static void put_id(FILE *f, const char *label, int is_chassis, int sub, const uint8_t *v, int n) {
  const char *type = "unhandled";
  char ip[INET6_ADDRSTRLEN];
  int mac = 0, ipok = 0;
  if (is_chassis) {
    if (sub == 4) type = "mac", mac = 1;
    else if (sub == 5) type = "ip", ipok = ip_text(v, n, ip, sizeof ip);
    else if (sub == 6) type = "ifname";
    else if (sub == 2) type = "ifalias";
    else if (sub == 7) type = "local";
  } else {
    if (sub == 3) type = "mac", mac = 1;
    else if (sub == 4) type = "ip", ipok = ip_text(v, n, ip, sizeof ip);
    else if (sub == 5) type = "ifname";
    else if (sub == 1) type = "ifalias";
    else if (sub == 7) type = "local";
  }
  fprintf(f, "   <id label=\"%s\" type=\"%s\">", label, type);
  if (ipok) fputs(ip, f);
  else if (mac || !printable(v, n)) put_hex(f, v, n);
  else put_text(f, v, n);
  fputs("</id>\n", f);
}

/* lldpctl's capability names, in the order it lists them. */
static const struct {
  int bit;
  const char *name;
} CAPS[] = {{0, "Other"}, {1, "Repeater"}, {2, "Bridge"}, {4, "Router"},
            {3, "Wlan"},  {5, "Tel"},      {6, "Docsis"}, {7, "Station"}};

static void put_neighbor(FILE *f, const struct neighbor *n, time_t now) {
  long age = now > n->seen ? (long)(now - n->seen) : 0;
  fputs(" <interface label=\"Interface\" name=\"", f);
  put_text(f, (const uint8_t *)n->ifname, (int)strlen(n->ifname));
  fprintf(f, "\" via=\"LLDP\" rid=\"%d\" age=\"%ld day%s, %02ld:%02ld:%02ld\">\n", n->rid, age / 86400,
          age / 86400 > 1 ? "s" : "", age / 3600 % 24, age / 60 % 60, age % 60);
  fputs("  <chassis label=\"Chassis\">\n", f);
  put_id(f, "ChassisID", 1, n->cid_sub, n->cid, n->cid_len);
  if (n->name_len >= 0) {
    fputs("   <name label=\"SysName\">", f);
    put_text(f, n->name, n->name_len);
    fputs("</name>\n", f);
  }
  if (n->descr_len >= 0) {
    fputs("   <descr label=\"SysDescr\">", f);
    put_text(f, n->descr, n->descr_len);
    fputs("</descr>\n", f);
  }
  for (int i = 0; i < n->n_mgmt; i++) {
    fprintf(f, "   <mgmt-ip label=\"MgmtIP\">%s</mgmt-ip>\n", n->mgmt[i].addr);
    if (n->mgmt[i].has_iface) fprintf(f, "   <mgmt-iface label=\"MgmtIface\">%u</mgmt-iface>\n", n->mgmt[i].iface);
  }
  if (n->has_caps)
    for (size_t i = 0; i < sizeof CAPS / sizeof CAPS[0]; i++)
      if (n->cap_avail & (1u << CAPS[i].bit))
        fprintf(f, "   <capability label=\"Capability\" type=\"%s\" enabled=\"%s\"/>\n", CAPS[i].name,
                n->cap_enabled & (1u << CAPS[i].bit) ? "on" : "off");
  fputs("  </chassis>\n  <port label=\"Port\">\n", f);
  put_id(f, "PortID", 0, n->pid_sub, n->pid, n->pid_len);
  if (n->pdescr_len >= 0) {
    fputs("   <descr label=\"PortDescr\">", f);
    put_text(f, n->pdescr, n->pdescr_len);
    fputs("</descr>\n", f);
  }
  fprintf(f, "   <ttl label=\"TTL\">%u</ttl>\n  </port>\n </interface>\n", n->ttl);
}

static int write_xml(FILE *f) {
  time_t now = time(NULL);
  fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
  if (n_neighbors == 0) {
    fputs("<lldp label=\"LLDP neighbors\"/>\n", f);
  } else {
    fputs("<lldp label=\"LLDP neighbors\">\n", f);
    for (int i = 0; i < n_neighbors; i++) put_neighbor(f, &neighbors[i], now);
    fputs("</lldp>\n", f);
  }
  return fflush(f) == 0 && !ferror(f) ? 0 : -1;
}

/* --- parsing ------------------------------------------------------------------------------- */

/* The management address TLV: address string length (subtype included), subtype, address,
 * interface numbering subtype, interface number, OID length, OID. */
static void parse_mgmt(struct neighbor *n, const uint8_t *v, int len) {
  if (len < 1 || n->n_mgmt >= MAX_MGMT) return;
  int alen = v[0];
  if (alen < 2 || 1 + alen > len) return;
  struct mgmt *m = &n->mgmt[n->n_mgmt];
  memset(m, 0, sizeof *m);
  if (!ip_text(v + 1, alen, m->addr, sizeof m->addr)) return; /* lldpd shows IPv4/IPv6 only */
  if (1 + alen + 5 <= len) {
    const uint8_t *p = v + 1 + alen + 1;
    m->iface = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    m->has_iface = 1;
  }
  n->n_mgmt++;
}

/* Parses an LLDPDU (the frame's payload) into *n; 0 when well-formed, -1 to skip the frame. */
static int parse_lldpdu(const uint8_t *p, int len, struct neighbor *n) {
  int off = 0, index = 0, ended = 0;
  n->name_len = n->descr_len = n->pdescr_len = -1;
  while (off + 2 <= len) {
    int type = p[off] >> 1, tlen = (p[off] & 1) << 8 | p[off + 1];
    const uint8_t *v = p + off + 2;
    off += 2;
    if (tlen > len - off) return -1; /* runs past the frame */
    off += tlen;
    /* 802.1AB: Chassis ID, Port ID and TTL come first, in that order */
    if (index == 0 && type != 1) return -1;
    if (index == 1 && type != 2) return -1;
    if (index == 2 && type != 3) return -1;
    index++;
    switch (type) {
    case 0:
      ended = 1;
      break;
    case 1:
    case 2:
      if (tlen < 2) return -1; /* a subtype and at least one byte */
      if (type == 1) n->cid_sub = v[0], n->cid_len = tlen - 1, memcpy(n->cid, v + 1, tlen - 1);
      else n->pid_sub = v[0], n->pid_len = tlen - 1, memcpy(n->pid, v + 1, tlen - 1);
      break;
    case 3:
      if (tlen < 2) return -1;
      n->ttl = (unsigned)v[0] << 8 | v[1];
      break;
    case 4:
      memcpy(n->pdescr, v, tlen), n->pdescr_len = tlen;
      break;
    case 5:
      memcpy(n->name, v, tlen), n->name_len = tlen;
      break;
    case 6:
      memcpy(n->descr, v, tlen), n->descr_len = tlen;
      break;
    case 7:
      if (tlen != 4) return -1;
      n->has_caps = 1;
      n->cap_avail = (uint16_t)(v[0] << 8 | v[1]);
      n->cap_enabled = (uint16_t)(v[2] << 8 | v[3]);
      break;
    case 8:
      parse_mgmt(n, v, tlen);
      break;
    default: /* organisationally specific and reserved TLVs: not shown */
      break;
    }
    if (ended) break;
  }
  return index >= 3 ? 0 : -1;
}

/* Handles one received Ethernet frame heard on ifname: returns 1 when it was a good LLDPDU. */
static int handle_frame(const char *ifname, const uint8_t *frame, int len, time_t now) {
  static struct neighbor n; /* ~2 KB: kept off the stack */
  int off = 12;
  if (len < 14) return 0;
  uint16_t type = (uint16_t)(frame[off] << 8 | frame[off + 1]);
  if (type == 0x8100 && len >= 18) off += 4, type = (uint16_t)(frame[off] << 8 | frame[off + 1]);
  if (type != ETH_P_LLDP_) return 0;
  off += 2;
  memset(&n, 0, sizeof n);
  if (parse_lldpdu(frame + off, len - off, &n) < 0) return 0;
  snprintf(n.ifname, sizeof n.ifname, "%s", ifname);
  int i;
  for (i = 0; i < n_neighbors; i++) {
    struct neighbor *o = &neighbors[i];
    if (!strcmp(o->ifname, n.ifname) && o->cid_sub == n.cid_sub && o->cid_len == n.cid_len &&
        !memcmp(o->cid, n.cid, n.cid_len) && o->pid_sub == n.pid_sub && o->pid_len == n.pid_len &&
        !memcmp(o->pid, n.pid, n.pid_len))
      break;
  }
  if (n.ttl == 0) { /* shutdown: forget it */
    if (i < n_neighbors) memmove(&neighbors[i], &neighbors[i + 1], (n_neighbors - i - 1) * sizeof n), n_neighbors--;
    return 1;
  }
  if (i < n_neighbors) {
    n.rid = neighbors[i].rid;
    n.seen = neighbors[i].seen;
  } else {
    if (n_neighbors == MAX_NEIGHBORS) return 1;
    n_neighbors++;
    n.rid = next_rid++;
    n.seen = now;
  }
  neighbors[i] = n;
  return 1;
}

/* --- replay (tests) ------------------------------------------------------------------------ */

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int replay(void) {
  static char line[8192];
  static uint8_t frame[4096];
  while (fgets(line, sizeof line, stdin)) {
    char *sp = strchr(line, ' ');
    if (!sp) continue;
    *sp = '\0';
    if (strlen(line) >= IF_NAMESIZE || !*line) continue;
    int len = 0, bad = 0;
    for (char *h = sp + 1; *h && *h != '\n'; h += 2) {
      int a = hexval(h[0]), b = a < 0 ? -1 : hexval(h[1]);
      if (b < 0 || len == (int)sizeof frame) {
        bad = 1;
        break;
      }
      frame[len++] = (uint8_t)(a << 4 | b);
    }
    if (!bad) handle_frame(line, frame, len, time(NULL));
  }
  return write_xml(stdout) == 0 ? 0 : 1;
}

/* --- listening ----------------------------------------------------------------------------- */

static int read_sys(const char *ifname, const char *what, char *buf, size_t size) {
  char path[128];
  snprintf(path, sizeof path, "/sys/class/net/%s/%s", ifname, what);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  int ok = fgets(buf, (int)size, f) != NULL;
  fclose(f);
  if (!ok) return -1;
  buf[strcspn(buf, "\n")] = '\0';
  return 0;
}

/* An Ethernet interface (ARPHRD_ETHER) other than the loopback. */
static int is_ethernet(const char *ifname) {
  char type[16];
  return read_sys(ifname, "type", type, sizeof type) == 0 && strcmp(type, "1") == 0;
}

/* Whether every Ethernet interface that is up has heard a neighbour (and there is one). */
static int all_heard(void) {
  struct if_nameindex *ifs = if_nameindex();
  int up = 0, missing = 0;
  char state[32];
  if (!ifs) return 0;
  for (struct if_nameindex *i = ifs; i->if_index; i++) {
    if (!is_ethernet(i->if_name) || read_sys(i->if_name, "operstate", state, sizeof state) < 0 ||
        strcmp(state, "up") != 0)
      continue;
    up++;
    int heard = 0;
    for (int k = 0; k < n_neighbors; k++) heard |= !strcmp(neighbors[k].ifname, i->if_name);
    missing += !heard;
  }
  if_freenameindex(ifs);
  return up > 0 && missing == 0;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int listen_for(double seconds) {
  int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_LLDP_));
  if (fd < 0) {
    fprintf(stderr, "lldp-listen: socket: %s\n", strerror(errno));
    return -1;
  }
  /* The nearest-bridge, non-TPMR and customer-bridge addresses: a NIC filters multicast it was not
   * asked for (lldpd joins the same three on each interface). */
  static const uint8_t groups[3][6] = {{0x01, 0x80, 0xc2, 0, 0, 0x0e}, {0x01, 0x80, 0xc2, 0, 0, 0x03},
                                       {0x01, 0x80, 0xc2, 0, 0, 0x00}};
  struct if_nameindex *ifs = if_nameindex();
  for (struct if_nameindex *i = ifs; ifs && i->if_index; i++) {
    if (!is_ethernet(i->if_name)) continue;
    for (int g = 0; g < 3; g++) {
      struct packet_mreq mr;
      memset(&mr, 0, sizeof mr);
      mr.mr_ifindex = (int)i->if_index;
      mr.mr_type = PACKET_MR_MULTICAST;
      mr.mr_alen = 6;
      memcpy(mr.mr_address, groups[g], 6);
      setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr); /* best effort */
    }
  }
  if (ifs) if_freenameindex(ifs);
  double end = now_s() + seconds;
  static uint8_t frame[9216];
  for (;;) {
    double left = end - now_s();
    if (left <= 0 || all_heard()) break;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r = poll(&p, 1, left > 0.5 ? 500 : (int)(left * 1000) + 1);
    if (r < 0 && errno != EINTR) {
      fprintf(stderr, "lldp-listen: poll: %s\n", strerror(errno));
      break;
    }
    if (r <= 0) continue;
    struct sockaddr_ll from;
    socklen_t flen = sizeof from;
    ssize_t len = recvfrom(fd, frame, sizeof frame, MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
    if (len < 0) continue;
    if (from.sll_pkttype == PACKET_OUTGOING) continue; /* our own frames, not a neighbour's */
    char ifname[IF_NAMESIZE];
    if (!if_indextoname((unsigned)from.sll_ifindex, ifname) || !is_ethernet(ifname)) continue;
    handle_frame(ifname, frame, (int)len, time(NULL));
  }
  close(fd);
  return 0;
}

int main(int argc, char **argv) {
  double seconds = 5;
  const char *out = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--replay")) return replay();
    if (!strcmp(argv[i], "-t") && i + 1 < argc) {
      char *end;
      seconds = strtod(argv[++i], &end);
      if (*end || !(seconds >= 0 && seconds <= 3600)) {
        fprintf(stderr, "lldp-listen: -t takes seconds, 0 to 3600\n");
        return 2;
      }
    } else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
      out = argv[++i];
    } else {
      fprintf(stderr, "usage: lldp-listen [-t SECONDS] [-o FILE] | --replay\n");
      return 2;
    }
  }
  if (listen_for(seconds) < 0) return 1;
  if (!out) return write_xml(stdout) == 0 ? 0 : 1;
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", out);
  FILE *f = fopen(tmp, "w");
  if (!f || write_xml(f) < 0 || fclose(f) != 0 || rename(tmp, out) != 0) {
    fprintf(stderr, "lldp-listen: writing %s: %s\n", out, strerror(errno));
    return 1;
  }
  return 0;
}
