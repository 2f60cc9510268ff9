// runtime/error.c: error descriptions for both ranges of codes.
#include <casty/base.h>

#include <string.h>

const char *
casty_strerror(int err)
{
	switch (err) {
	case CASTY_OK:
		return "success";
	case CASTY_ESTOPPED:
		return "the system or the target is shutting down";
	case CASTY_ENOREF:
		return "the ref is empty or was never valid";
	case CASTY_EFULL:
		return "the mailbox or submission ring is full";
	case CASTY_ECORRUPT:
		return "a record failed its checksum";
	case CASTY_ETYPE:
		return "a message of an unexpected type";
	case CASTY_ENOTMEMBER:
		return "no current member of the cluster has that address";
	}
	if (err < 0 && err > -4096) {
		return strerror(-err);
	}
	return "unknown error";
}
