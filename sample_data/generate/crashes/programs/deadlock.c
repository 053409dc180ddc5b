/* Deadlock: two threads take the same two locks in opposite order. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
static pthread_mutex_t accounts_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t audit_lock = PTHREAD_MUTEX_INITIALIZER;
__attribute__((noipa)) void transfer_funds(void) {
    pthread_mutex_lock(&accounts_lock);
    usleep(200000);
    pthread_mutex_lock(&audit_lock);      /* held by write_audit_log */
    pthread_mutex_unlock(&audit_lock);
    pthread_mutex_unlock(&accounts_lock);
}
__attribute__((noipa)) void write_audit_log(void) {
    pthread_mutex_lock(&audit_lock);
    usleep(200000);
    pthread_mutex_lock(&accounts_lock);   /* held by transfer_funds */
    pthread_mutex_unlock(&accounts_lock);
    pthread_mutex_unlock(&audit_lock);
}
static void *teller(void *a) { (void)a; transfer_funds(); return NULL; }
static void *auditor(void *a) { (void)a; write_audit_log(); return NULL; }
int main(void) {
    pthread_t a, b;
    pthread_create(&a, NULL, teller, NULL);
    pthread_create(&b, NULL, auditor, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    puts("never printed");
    return 0;
}
