/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What every part of phyllomed shares: the journal, the PCI names. */
#include <stdarg.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "daemon.h"
#include "phyllome-error.h"
#include "phyllome-vmm1.h"

/* To the journal with the machine as a structured field, and to a terminal when run by hand. */
void daemon_log(const char *machine, int priority, const char *format, ...)
{
	g_autofree char *message = NULL;
	va_list ap;

	va_start(ap, format);
	message = g_strdup_vprintf(format, ap);
	va_end(ap);
	if (machine)
		(void)sd_journal_send("MESSAGE=%s: %s", machine, message, "PRIORITY=%i", priority,
				      PHYLLOME_JOURNAL_FIELD_MACHINE "=%s", machine, NULL);
	else
		(void)sd_journal_send("MESSAGE=%s", message, "PRIORITY=%i", priority, NULL);
	if (isatty(STDERR_FILENO))
		g_printerr("%s%s%s\n", machine ? machine : "", machine ? ": " : "", message);
}

PciNames *daemon_pci_names(Daemon *d)
{
	if (!d->pci_names)
		d->pci_names = pci_names_new();
	return d->pci_names;
}

gboolean daemon_errno_error(GError **error, int code, int err, const char *format, ...)
{
	g_autofree char *message = NULL;
	va_list ap;

	va_start(ap, format);
	message = g_strdup_vprintf(format, ap);
	va_end(ap);
	g_set_error(error, PHYLLOME_ERROR, code, "%s: %s", message, g_strerror(err));
	return FALSE;
}

char *daemon_fd_path(int fd)
{
	g_autofree char *link = g_strdup_printf("/proc/self/fd/%d", fd);

	return g_file_read_link(link, NULL);
}

gboolean daemon_fd_below(int fd, const char *dir)
{
	g_autofree char *target = daemon_fd_path(fd);
	g_autofree char *prefix =
	    g_str_has_suffix(dir, "/") ? g_strdup(dir) : g_strconcat(dir, "/", NULL);

	return target && g_str_has_prefix(target, prefix);
}
