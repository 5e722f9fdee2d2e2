/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>
#include <gio/gunixfdlist.h>

/*
 * phyllomed's side of one monitor's control channel (org.phyllome.VMM1,
 * peer-to-peer D-Bus on the socket phyllomed made for it). Connects at the
 * first call and again after the connection broke; knows nothing of machines.
 */
typedef struct VmmClient VmmClient;

/* reply: the method's return values, or NULL and error. */
typedef void (*VmmClientCallback)(GVariant *reply, const GError *error, gpointer data);

/* What the monitor tells without being asked. */
typedef struct {
	void (*guest_panicked)(gboolean crash_kernel_loaded, gpointer data);
} VmmClientOps;

VmmClient *vmm_client_new(const char *socket_path, const VmmClientOps *ops, gpointer data);
/*
 * Closes the connection; calls still under way get their callback with an
 * error (G_IO_ERROR_CLOSED when they never reached the monitor), the ops no
 * further calls.
 */
void vmm_client_free(VmmClient *client);

/* Calls a method (params: floating or NULL); a stuck monitor costs the call its timeout, nothing
 * else. */
void vmm_client_call(VmmClient *client, const char *interface, const char *method, GVariant *params,
		     VmmClientCallback callback, gpointer data);
/* The same with file descriptors for params' handles (h). */
void vmm_client_call_with_fds(VmmClient *client, const char *interface, const char *method,
			      GVariant *params, GUnixFDList *fds, VmmClientCallback callback,
			      gpointer data);
