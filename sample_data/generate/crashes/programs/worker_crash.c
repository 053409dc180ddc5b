/* Multi-threaded: one of four workers dereferences a NULL job. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
struct job { int id; int cost; };
static struct job jobs[4] = {{0, 1}, {1, 2}, {2, 3}, {3, 4}};
static struct job *queue[4] = {&jobs[0], &jobs[1], NULL, &jobs[3]};
static pthread_barrier_t ready;
__attribute__((noipa)) int process_job(const struct job *j) {
    return j->cost * 3;                  /* queue[2] is NULL */
}
static void *worker(void *arg) {
    long idx = (long)arg;
    pthread_barrier_wait(&ready);
    if (idx != 2) { sleep(30); return NULL; }
    usleep(100000);
    return (void *)(long)process_job(queue[idx]);
}
int main(void) {
    pthread_t t[4];
    pthread_barrier_init(&ready, NULL, 4);
    for (long i = 0; i < 4; i++) pthread_create(&t[i], NULL, worker, (void *)i);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    return 0;
}
