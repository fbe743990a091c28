/* See include/pvhk/start_info.h. */
#include <pvhk/printk.h>
#include <pvhk/start_info.h>
#include <xen/xen.h>
#include <xen/arch-x86/hvm/start_info.h>

const char *start_info_refusal(uint32_t magic, uint32_t version, char *buf, size_t len)
{
    if (magic != XEN_HVM_START_MAGIC_VALUE) {
        snprintf(buf, len, "bad magic 0x%08x (expected 0x%08x): not a PVH boot?", magic,
                 XEN_HVM_START_MAGIC_VALUE);
        return buf;
    }
    if (version > 1) {
        snprintf(buf, len, "unknown version %u (pvhk understands 0 and 1)", version);
        return buf;
    }
    return NULL;
}
