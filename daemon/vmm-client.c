/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "vmm-client.h"

#include "phyllome-vmm1.h"

#define CALL_TIMEOUT_MS 10000

struct VmmClient {
	gint ref;
	gboolean closed; /* vmm_client_free was called: no more calls, no more ops */
	char *address;
	VmmClientOps ops;
	gpointer ops_data;
	GDBusConnection *conn;
	guint panic_subscription;
};

typedef struct {
	VmmClient *client;
	char *interface;
	char *method;
	GVariant *params;
	GUnixFDList *fds;
	VmmClientCallback callback;
	gpointer data;
} Call;

static VmmClient *client_ref(VmmClient *client)
{
	g_atomic_int_inc(&client->ref);
	return client;
}

static void client_unref(VmmClient *client)
{
	if (!g_atomic_int_dec_and_test(&client->ref))
		return;
	g_free(client->address);
	g_free(client);
}

static void call_free(Call *call)
{
	client_unref(call->client);
	g_free(call->interface);
	g_free(call->method);
	if (call->params)
		g_variant_unref(call->params);
	g_clear_object(&call->fds);
	g_free(call);
}

static void call_fail(Call *call, const GError *error)
{
	if (call->callback)
		call->callback(NULL, error, call->data);
	call_free(call);
}

static void call_replied(GObject *source, GAsyncResult *res, gpointer data)
{
	Call *call = data;
	g_autoptr(GError) error = NULL;
	/* (What a monitor might send back with its reply is dropped with the list.) */
	g_autoptr(GUnixFDList) fds_back = NULL;
	g_autoptr(GVariant) reply = g_dbus_connection_call_with_unix_fd_list_finish(
	    G_DBUS_CONNECTION(source), &fds_back, res, &error);

	if (!reply) {
		g_dbus_error_strip_remote_error(error);
		call_fail(call, error);
		return;
	}
	if (call->callback)
		call->callback(reply, NULL, call->data);
	call_free(call);
}

static void call_send(Call *call)
{
	/* Peer to peer: no destination name. */
	g_dbus_connection_call_with_unix_fd_list(
	    call->client->conn, NULL, PHYLLOME_VMM1_PATH, call->interface, call->method,
	    call->params ? g_variant_ref(call->params) : NULL, NULL, G_DBUS_CALL_FLAGS_NONE,
	    CALL_TIMEOUT_MS, call->fds, NULL, call_replied, call);
}

static void guest_panicked(GDBusConnection *conn, const char *sender, const char *path,
			   const char *interface, const char *signal, GVariant *params,
			   gpointer data)
{
	VmmClient *client = data;
	gboolean crash_kernel_loaded = FALSE;

	if (client->closed || !client->ops.guest_panicked)
		return;
	/* Anything read from the monitor is untrusted: a wrong type is read as "no crash kernel".
	 */
	if (g_variant_is_of_type(params, G_VARIANT_TYPE("(b)")))
		g_variant_get(params, "(b)", &crash_kernel_loaded);
	client->ops.guest_panicked(crash_kernel_loaded, client->ops_data);
}

static void detach(VmmClient *client)
{
	if (!client->conn)
		return;
	if (client->panic_subscription)
		g_dbus_connection_signal_unsubscribe(client->conn, client->panic_subscription);
	client->panic_subscription = 0;
	(void)g_dbus_connection_close(client->conn, NULL, NULL, NULL);
	g_clear_object(&client->conn);
}

static void attach(VmmClient *client, GDBusConnection *conn)
{
	client->conn = conn;
	/* Peer to peer: no sender to match; the subscription goes with detach(). */
	client->panic_subscription = g_dbus_connection_signal_subscribe(
	    conn, NULL, PHYLLOME_VMM1_INTERFACE, "GuestPanicked", PHYLLOME_VMM1_PATH, NULL,
	    G_DBUS_SIGNAL_FLAGS_NONE, guest_panicked, client, NULL);
}

static void connected(GObject *source, GAsyncResult *res, gpointer data)
{
	Call *call = data;
	VmmClient *client = call->client;
	g_autoptr(GError) error = NULL;
	GDBusConnection *conn = g_dbus_connection_new_for_address_finish(res, &error);

	(void)source;
	if (!conn) {
		g_prefix_error(&error, "Cannot reach the monitor's control socket: ");
		call_fail(call, error);
		return;
	}
	if (client->closed) {
		(void)g_dbus_connection_close(conn, NULL, NULL, NULL);
		g_object_unref(conn);
		error = g_error_new_literal(G_IO_ERROR, G_IO_ERROR_CLOSED,
					    "The monitor's control channel was closed");
		call_fail(call, error);
		return;
	}
	/* Several calls may have connected at once: the first connection serves them all. */
	if (!client->conn)
		attach(client, conn);
	else
		g_object_unref(conn);
	call_send(call);
}

VmmClient *vmm_client_new(const char *socket_path, const VmmClientOps *ops, gpointer data)
{
	VmmClient *client = g_new0(VmmClient, 1);

	client->ref = 1;
	client->address = g_strdup_printf("unix:path=%s", socket_path);
	if (ops)
		client->ops = *ops;
	client->ops_data = data;
	return client;
}

void vmm_client_free(VmmClient *client)
{
	if (!client)
		return;
	client->closed = TRUE;
	detach(client);
	client_unref(client);
}

void vmm_client_call(VmmClient *client, const char *interface, const char *method, GVariant *params,
		     VmmClientCallback callback, gpointer data)
{
	vmm_client_call_with_fds(client, interface, method, params, NULL, callback, data);
}

void vmm_client_call_with_fds(VmmClient *client, const char *interface, const char *method,
			      GVariant *params, GUnixFDList *fds, VmmClientCallback callback,
			      gpointer data)
{
	Call *call = g_new0(Call, 1);

	call->client = client_ref(client);
	call->interface = g_strdup(interface);
	call->method = g_strdup(method);
	call->params = params ? g_variant_ref_sink(params) : NULL;
	call->fds = fds ? g_object_ref(fds) : NULL;
	call->callback = callback;
	call->data = data;
	if (client->closed) {
		g_autoptr(GError) error = g_error_new_literal(
		    G_IO_ERROR, G_IO_ERROR_CLOSED, "The monitor's control channel was closed");

		call_fail(call, error);
		return;
	}
	if (client->conn && !g_dbus_connection_is_closed(client->conn)) {
		call_send(call);
		return;
	}
	detach(client);
	g_dbus_connection_new_for_address(client->address,
					  G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT, NULL, NULL,
					  connected, call);
}
