// runtime/fence.h: the seq_cst fence, in a form ThreadSanitizer accepts.
//
// TSan does not model standalone fences (gcc warns, -Wtsan, and -Werror
// makes that fatal). Under TSan the fence becomes a seq_cst RMW on a
// private word, which TSan does model and which is a full barrier on the
// hardware we run on (a locked instruction on x86, a DMB on Arm), so the
// instrumented build keeps the ordering the algorithms need.
#ifndef CASTY_RUNTIME_FENCE_H
#define CASTY_RUNTIME_FENCE_H

#include <stdatomic.h>

#if defined(__SANITIZE_THREAD__)
#define CST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CST_TSAN 1
#endif
#endif

#ifdef CST_TSAN
extern _Atomic int cst_fence_word;
#endif

static inline void
cst_fence_seq_cst(void)
{
#ifdef CST_TSAN
	atomic_fetch_add_explicit(&cst_fence_word, 0, memory_order_seq_cst);
#else
	atomic_thread_fence(memory_order_seq_cst);
#endif
}

#endif // CASTY_RUNTIME_FENCE_H
