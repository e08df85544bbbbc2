/* opens: written with the file service */
